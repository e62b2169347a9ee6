//! What is recorded and sent about what happened: user and admin activities, Barong's Event API
//! (its outbox and the RabbitMQ publisher), mail and its outbox files.

pub mod activity;
pub mod event_api;
pub mod mail;
pub mod outbox_files;
pub mod publisher;
