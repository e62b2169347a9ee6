//! The API contract as a whole: every operation of `barong-api-2.7.md` (as Swagger in
//! tests/fixtures, built by tools/swagger_from_seed.py) is served — none answers Grape's
//! "Route is not found" or a 5xx — and `resource/swagger_doc` describes the resource API.

use super::*;

fn contract() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/barong-api-2.7.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("fixture json")
}

both!(every_operation_of_the_contract_is_routed, |srv: TestServer| async move {
    let doc = contract();
    let base = doc["basePath"].as_str().expect("basePath").to_string();
    let c = srv.client();
    let mut seen = 0;
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        let concrete = path
            .replace("{kid}", "0123456789abcdef")
            .replace("{key}", "nickname")
            .replace("{topic}", "all")
            .replace("{name}", "users");
        for method in ops.as_object().expect("ops").keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let url = format!("{}{base}{concrete}", srv.base);
            let r = c.request(m.clone(), &url).json(&json!({})).send().await.expect("request");
            let status = r.status().as_u16();
            let body = r.text().await.expect("body");
            assert!(!(status == 404 && body.contains("Route is not found")), "{method} {path} is not routed");
            assert!(status < 500, "{method} {path}: {status} {body}");
            seen += 1;
        }
    }
    assert_eq!(seen, 56, "the contract has 56 operations");
});

both!(swagger_doc_describes_the_resource_api, |srv: TestServer| async move {
    let c = srv.client();
    let (s, doc) = get(&c, &srv.url("resource/swagger_doc")).await;
    assert_eq!(s, 200);
    assert_eq!((doc["swagger"].as_str(), doc["basePath"].as_str()), (Some("2.0"), Some("/api/v2/barong/resource")));
    assert_eq!(doc["host"].as_str(), Some(srv.addr.as_str()));
    assert!(doc["paths"]["/users/me"]["get"]["responses"]["200"]["schema"]["$ref"].is_string());
    let (s, one) = get(&c, &srv.url("resource/swagger_doc/phones")).await;
    assert_eq!(s, 200);
    let paths: Vec<&String> = one["paths"].as_object().expect("paths").keys().collect();
    assert_eq!(paths, ["/phones", "/phones/send_code", "/phones/verify"]);
    assert_eq!(
        get(&c, &srv.url("resource/swagger_doc/nope")).await,
        (400, json!({"error": "named resource not exist"}))
    );
    // Only these paths skip authentication, not every path that mentions swagger.
    assert_eq!(get(&c, &srv.url("resource/users/me?swagger=1")).await.0, 401);
});

// Every operation, as a signed-in user, with hostile values in every declared parameter: wrong
// JSON types, huge strings, control characters, and a body that is not JSON at all. Each gets an
// answer below 500 (Barong's error format, never a panic or a 500).
both!(hostile_parameters_never_cause_a_server_error, |srv: TestServer| async move {
    let doc = contract();
    let base = doc["basePath"].as_str().expect("basePath").to_string();
    let (c, csrf) = active_user(&srv, "hostile@example.com").await;
    let huge = "x".repeat(20_000);
    let values = [
        json!([1, 2]),
        json!({"a": {"b": 1}}),
        json!(huge),
        json!("\u{0}\u{7}'\"<>%00../../etc/passwd"),
        json!(-1e300),
        json!(true),
    ];
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        let concrete = path
            .replace("{kid}", "%00%2F..")
            .replace("{key}", &"k".repeat(300))
            .replace("{topic}", "all")
            .replace("{name}", "users");
        for (method, op) in ops.as_object().expect("ops") {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let url = format!("{}{base}{concrete}", srv.base);
            let names: Vec<&str> = op["parameters"]
                .as_array()
                .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
                .unwrap_or_default();
            for v in &values {
                let body: serde_json::Map<String, Value> = names.iter().map(|n| (n.to_string(), v.clone())).collect();
                let r =
                    c.request(m.clone(), &url).header("X-CSRF-Token", &csrf).json(&body).send().await.expect("request");
                let status = r.status().as_u16();
                let text = r.text().await.expect("body");
                assert!(
                    status < 500,
                    "{method} {path} with {}: {status} {text}",
                    &v.to_string()[..v.to_string().len().min(40)]
                );
            }
            let r = c
                .request(m.clone(), &url)
                .header("X-CSRF-Token", &csrf)
                .header("Content-Type", "application/json")
                .body(vec![0xff, 0xfe, b'{', 0])
                .send()
                .await
                .expect("request");
            assert!(r.status().as_u16() < 500, "{method} {path} with a non-JSON body: {}", r.status());
        }
    }
    // The account still works after all that (the sweep included a logout).
    let c = srv.client();
    let (s, _) =
        post(&c, &srv.url("identity/sessions"), json!({"email": "hostile@example.com", "password": PASSWORD})).await;
    assert_eq!(s, 200);
    assert_eq!(get(&c, &srv.url("resource/users/me")).await.0, 200);
});
