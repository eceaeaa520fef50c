//! End-to-end tests: the real server on a random port, its own fresh database, called over HTTP
//! as the mobile app, the bank client or the admin console would.
//!
//! SQLite by default; set `TEST_DATABASE_URL=postgres://…/postgres` to run every test on its own
//! newly created PostgreSQL database (dropped afterwards).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod assets;
mod audit;
mod auth;
mod banks;
mod binary;
mod conventions;
mod equity;
mod helpers;
mod hostile;
mod isolation;
mod loans;
mod money;
mod openapi;
mod organizations;
mod outage;
mod permissions;
mod processes;
mod regions;
mod review;
mod stats;
mod users;
