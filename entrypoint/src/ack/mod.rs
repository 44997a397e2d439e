//! The acknowledgement job of a webhook-mode pipeline (`entrypoint ack`, [`command`]): it
//! acknowledges the mention through [`crate::answer`] in the slim image and tells the assistant
//! job what is left.

pub mod command;
