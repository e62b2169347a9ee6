//! The admin-socket frame decoder: any line is a request or a refusal (never a panic), a refusal
//! is an error reply that encodes, and a decoded request encodes to a frame that decodes to the
//! same request.
#![no_main]

use barongd::ctl_socket::server::decode_frame;
use common::admin::{Envelope, MAX_FRAME, PROTOCOL_VERSION};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|line: &[u8]| {
    if line.len() > MAX_FRAME {
        return;
    }
    match decode_frame(line) {
        Ok(request) => {
            let value = serde_json::to_value(&request).expect("a request encodes");
            let mut frame =
                serde_json::to_vec(&Envelope { v: PROTOCOL_VERSION, request }).expect("an envelope encodes");
            assert!(frame.len() <= MAX_FRAME || line.len() * 6 >= MAX_FRAME, "re-encoding grew past the frame limit");
            frame.push(b'\n');
            assert!(!frame[..frame.len() - 1].contains(&b'\n'), "an encoded frame holds a newline");
            let again = decode_frame(&frame).unwrap_or_else(|r| panic!("re-decoding refused: {r:?}"));
            assert_eq!(value, serde_json::to_value(&again).expect("a request encodes"));
        }
        Err(reply) => {
            assert!(!reply.ok && reply.error.is_some());
            serde_json::to_vec(&reply).expect("a refusal encodes");
        }
    }
});
