//! The HTTP API of the rural asset collateral and loan-matching platform.
//!
//! One module per feature, each owning its routes, request/response types and rules:
//! [`auth`] (sign-in, sessions, the permission matrix), [`users`], [`regions`],
//! [`organizations`], [`banks`], [`health`].
//! Shared plumbing: [`config`], [`db`], [`error`] (problem+json), [`extract`], [`pagination`],
//! [`i18n`], [`telemetry`], [`startup`].

pub mod applications;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod banks;
pub mod bootstrap;
pub mod config;
pub mod csv_out;
pub mod db;
pub mod demo;
pub mod domain;
pub mod equity;
pub mod error;
pub mod extract;
pub mod health;
pub mod i18n;
pub mod idempotency;
pub mod liens;
pub mod matching;
pub mod middleware;
pub mod notifications;
pub mod openapi;
pub mod organizations;
pub mod pagination;
pub mod products;
pub mod regions;
pub mod repayment;
pub mod schedule;
pub mod scope;
pub mod startup;
pub mod state;
pub mod stats;
pub mod storage;
pub mod telemetry;
pub mod throttle;
pub mod transition;
pub mod users;

pub use config::Settings;
pub use startup::Application;
