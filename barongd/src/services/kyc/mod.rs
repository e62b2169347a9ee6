//! Know your customer: the labels → level and state engine, phones and SMS codes, profiles,
//! documents and their uploads, how KYC records are shown, and the operator's review.

pub mod display;
pub mod documents;
pub mod file_store;
pub mod kycaid;
pub mod levels;
pub mod phone_index;
pub mod phone_number;
pub mod phones;
pub mod profiles;
pub mod review;
pub mod sms;
pub mod uploads;
