//! The handlers of the HTTPS API, one module per resource, each with the
//! request and answer bodies of its routes. `api` maps paths onto them;
//! what they share (state, extractors, authorization, audit) is in `app`.

pub(crate) mod audit;
pub(crate) mod backup;
pub(crate) mod ca;
pub(crate) mod join_tokens;
pub(crate) mod keys;
pub(crate) mod nodes;
pub(crate) mod policies;
pub(crate) mod seal;
pub(crate) mod secrets;
pub(crate) mod sys;
pub(crate) mod tokens;
pub(crate) mod volumes;
