//! What a gateway's API does for us besides callbacks ([`Capabilities`]), and the macro that
//! wires a gateway's `start.rs`, `ops.rs` and `status.rs` into its `impl Gateway`.

use crate::payments::ops::OpKind;

/// What a gateway's API does for us besides callbacks. A gateway without a capability is
/// handled in its own dashboard; its callbacks still update keyturn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// `/pay/{order_id}/{gateway}` hands the customer over ([`Gateway::start`]).
    pub start: bool,
    /// Admin operations through its API ([`Gateway::operate`]).
    pub capture: bool,
    pub cancel: bool,
    pub refund: bool,
    /// It can be asked what became of a payment we started ([`Gateway::status`]).
    pub status: bool,
}

impl Capabilities {
    /// Start, capture, cancel, refund and status: a gateway with a full API.
    pub const ALL: Capabilities = Capabilities { start: true, capture: true, cancel: true, refund: true, status: true };
    /// Start only (a signed link, or an API without operations).
    pub const START: Capabilities =
        Capabilities { start: true, capture: false, cancel: false, refund: false, status: false };

    /// Whether admins can ask for `kind` through keyturn.
    pub fn operation(self, kind: OpKind) -> bool {
        match kind {
            OpKind::Capture => self.capture,
            OpKind::Cancel => self.cancel,
            OpKind::Refund => self.refund,
        }
    }
}

/// The capability methods of an `impl Gateway` whose folder has the usual entry points:
/// `start` (`start::start`), `link` (`start::link`, a signed redirect), `ops` (`ops::perform`),
/// `status` (`status::ask`). E.g. `api_methods!(start, ops, status);`
macro_rules! api_methods {
    ($($capability:ident),*) => { $( api_methods!(@ $capability); )* };
    (@ start) => {
        fn start<'a>(
            &'a self,
            state: &'a $crate::state::AppState,
            c: &'a $crate::payments::start::Checkout<'a>,
        ) -> futures_util::future::BoxFuture<'a, Result<$crate::payments::start::Started, $crate::payments::start::StartError>> {
            Box::pin(start::start(state, c))
        }
    };
    (@ link) => {
        fn start<'a>(
            &'a self,
            state: &'a $crate::state::AppState,
            c: &'a $crate::payments::start::Checkout<'a>,
        ) -> futures_util::future::BoxFuture<'a, Result<$crate::payments::start::Started, $crate::payments::start::StartError>> {
            Box::pin(std::future::ready(start::link(&state.settings.gateways, c).map($crate::payments::start::Started::link)))
        }
    };
    (@ ops) => {
        fn operate<'a>(
            &'a self,
            state: &'a $crate::state::AppState,
            req: &'a $crate::payments::ops::OpRequest,
        ) -> futures_util::future::BoxFuture<'a, Result<$crate::payments::ops::OpAnswer, $crate::payments::ops::Unreachable>> {
            Box::pin(ops::perform(state, req))
        }
    };
    (@ status) => {
        fn status<'a>(
            &'a self,
            state: &'a $crate::state::AppState,
            reference: &'a str,
        ) -> futures_util::future::BoxFuture<'a, Result<$crate::payments::start::status::Status, $crate::payments::start::StartError>> {
            Box::pin(status::ask(state, reference))
        }
    };
}
pub(crate) use api_methods;
