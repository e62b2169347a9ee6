//! `barongctl management check [--file PATH]` (spec §7): offline on good and bad files, and the
//! file the daemon loaded, with the same lint (the `mgmtlint` crate) on both sides.

use super::*;

/// `openssl` output of `args`.
fn openssl(args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new("openssl").args(args).output().expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A `management_api.yml` in `dir` with an RSA-2048 signer `applogic` (RS256) and a P-256
/// signer `backoffice` named with an HMAC algorithm, and `scopes` (lines under `scopes:`);
/// also the SPKI SHA-256 of the RSA key as openssl computes it.
fn management_file(dir: &std::path::Path, name: &str, scopes: &str) -> (std::path::PathBuf, String) {
    use base64::Engine;
    let rsa = dir.join("rsa.pem");
    if !rsa.exists() {
        openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            &rsa.display().to_string(),
        ]);
        let ec = dir.join("ec.pem").display().to_string();
        openssl(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", &ec]);
    }
    let public = |f: &str| openssl(&["pkey", "-in", &dir.join(f).display().to_string(), "-pubout"]);
    let b64 = |pem: Vec<u8>| base64::engine::general_purpose::URL_SAFE.encode(pem);
    let der = openssl(&["pkey", "-in", &rsa.display().to_string(), "-pubout", "-outform", "DER"]);
    let fingerprint = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&der))
    };
    let text = format!(
        "keychain:\n  applogic:\n    algorithm: RS256\n    value: {}\n  backoffice:\n    algorithm: HS384\n    value: {}\njwt:\n  verify_iss: true\n  iss: applogic\nscopes:\n{scopes}",
        b64(public("rsa.pem")),
        b64(public("ec.pem")),
    );
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    (path, fingerprint)
}

both!(ctl_management_check, per_backend = ctl_management_check);
/// §7: offline on good and bad files (exit 0/1), and the daemon's loaded file.
async fn ctl_management_check(backend: Backend) {
    let dir = tempfile::tempdir().expect("tmp");
    let good_scopes = "  write_labels: {permitted_signers: [applogic, backoffice], mandatory_signers: [applogic]}\n";
    let (good, fingerprint) = management_file(dir.path(), "good.yml", good_scopes);
    let bad_scopes = "  read_users: {permitted_signers: [applogic], mandatory_signers: [hr]}\n  tools: {permitted_signers: [applogic]}\n";
    let (bad, _) = management_file(dir.path(), "bad.yml", bad_scopes);
    let config = format!("management_api:\n  file: {}\n", good.display());
    let Some(srv) = TestServer::spawn_with(backend, Options { config, ..Default::default() }).await else { return };
    within_limit(srv, |srv| async move {
        let good = good.display().to_string();
        let offline = ctl_json(&srv, &["management", "check", "--file", &good]);
        assert_eq!(offline["keys"][0]["id"], "applogic");
        assert_eq!(offline["keys"][0]["kind"], "RSA-2048");
        assert_eq!(offline["keys"][0]["fingerprint"], fingerprint.as_str());
        assert_eq!(offline["keys"][0]["accepted"], json!(["RS256"]));
        assert_eq!(offline["keys"][1]["accepted"], json!(["ES256"]), "HS384 ignored: {offline}");
        assert_eq!(offline["scopes"][0]["endpoints"], json!(["POST /labels", "PUT /labels", "POST /labels/delete"]));
        let problems = offline["problems"].to_string();
        assert!(problems.contains("HS384 is HMAC") && problems.contains("single mandatory signer"), "{problems}");
        assert!(!problems.contains("\"error\""), "{problems}");
        assert!(offline["settings"].is_null(), "daemon settings are not read offline");

        let (code, out, err) = srv.ctl(&["management", "check", "--file", &bad.display().to_string()], None);
        assert_eq!(code, 1, "errors exit 1: {out} {err}");
        assert!(out.contains("error") && out.contains("mandatory signer 'hr' is not in permitted_signers"), "{out}");
        assert!(out.contains("tools: mandatory_signers is missing"), "{out}");
        let (code, _, _) = srv.ctl(&["management", "check", "--file", "/nonexistent/management_api.yml"], None);
        assert_eq!(code, 2);

        // The daemon reports the file it loaded, with its settings; the same lint as offline.
        let loaded = ctl_json(&srv, &["management", "check"]);
        assert_eq!(loaded["file"], good.as_str());
        assert_eq!(loaded["sha256"], offline["sha256"]);
        assert_eq!(
            (&loaded["keys"], &loaded["scopes"], &loaded["problems"]),
            (&offline["keys"], &offline["scopes"], &offline["problems"])
        );
        assert_eq!(
            (loaded["settings"]["max_token_lifetime"].as_i64(), loaded["settings"]["jti_single_use"].as_bool()),
            (Some(300), Some(true))
        );
        let (code, out, _) = srv.ctl(&["management", "check"], None);
        assert_eq!(code, 0);
        assert!(
            out.contains("RSA-2048") && out.contains("write_labels") && out.contains("max_token_lifetime=300s"),
            "{out}"
        );
    })
    .await;
}
