//! TOTP set-up: generate a secret and QR code, enable, disable, verify (resource-admin-kyc §2.2, §9).
