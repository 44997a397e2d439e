pub(crate) mod e2e;
pub(crate) mod in_image;
pub(crate) mod webhook;
