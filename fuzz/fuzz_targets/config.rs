//! Configuration parsing: any YAML text is a configuration or a one-line error (never a panic),
//! and an accepted configuration, written back as YAML, reads back as the same configuration.
#![no_main]

use barongd::config::load::{Overrides, from_mapping, redacted_yaml};
use barongd::config::yaml::{self, Value};
use libfuzzer_sys::fuzz_target;

fn no_env(_: &str) -> Option<String> {
    None
}

fuzz_target!(|text: &str| {
    let Ok(map) = yaml::mapping(text) else { return };
    let config = match from_mapping(map, &Overrides::default(), &no_env) {
        Ok(c) => c,
        Err(e) => {
            assert!(!e.contains('\n'), "multi-line error: {e}");
            return;
        }
    };
    let written = yaml::to_value(&config).expect("a configuration serialises");
    let Value::Mapping(written) = written else { panic!("a configuration is a mapping") };
    let back = from_mapping(written, &Overrides::default(), &no_env).expect("its own output reads back");
    assert_eq!(yaml::to_string(&config), yaml::to_string(&back));
    assert!(!redacted_yaml(&config).is_empty());
});
