//! The gateway's rule inputs: `authz_rules.yml`, permission files (`barongctl permission load`)
//! and restriction values. Accepted rules are canonical prefixes; validated permissions have an
//! upper-case verb and action and a non-empty path without outer slashes; a subnet restriction
//! has its host bits cleared.
#![no_main]

use barongd::model::RestrictionScope;
use barongd::services::gateway::restrictions::rules::{Matcher, parse_subnet};
use barongd::services::gateway::rules::{Rules, has_prefix};
use barongd::services::operator::gateway::{parse_file, validate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(rules) = Rules::parse(text) {
        for p in rules.pass.iter().chain(&rules.block) {
            assert!(!p.starts_with('/') && !p.ends_with('/'), "{p:?}");
            assert!(has_prefix(p, p));
        }
    }
    if let Ok(list) = parse_file(text) {
        for p in &list {
            let Ok((verb, action, path)) = validate(p) else { continue };
            assert_eq!(verb, verb.to_ascii_uppercase());
            assert_eq!(action, action.to_ascii_uppercase());
            assert!(!path.is_empty() && !path.starts_with('/') && !path.ends_with('/'), "{path:?}");
        }
    }
    for scope in RestrictionScope::ALL {
        match Matcher::parse(scope, text) {
            Some(Matcher::Subnet(net)) => assert_eq!(net, net.trunc()),
            Some(Matcher::Continent(v) | Matcher::Country(v)) => assert!(!v.is_empty()),
            _ => {}
        }
    }
    if let Some(net) = parse_subnet(text) {
        assert_eq!(parse_subnet(&net.to_string()), Some(net), "{text:?}");
    }
});
