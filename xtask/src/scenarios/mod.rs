pub(crate) mod e2e;
pub(crate) mod image_scenario;
pub(crate) mod webhook_scenario;
