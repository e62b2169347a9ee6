//! Barong's Management API: server-to-server requests signed by configured signers (general
//! JSON JWS, spec admin-and-management §4). `verify` checks a request's signatures and claims
//! (pure); the HTTP edge records the `jti` and calls the endpoint services.

pub mod verify;
