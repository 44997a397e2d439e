pub(crate) mod image_scenario;
pub(crate) mod webhook_scenario;
