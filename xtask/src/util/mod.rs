pub(crate) mod cmd;
pub(crate) mod prerequisites;
pub(crate) mod public_url;
