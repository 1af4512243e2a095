//! A client: submits its commands one at a time, retries on silence with the same request id,
//! and takes only the reply to its current request (`specs/multipaxos.md`, "Clients").
//!
//! Submitting is a step of its own. In the model, the client offers its next scripted operation
//! as a stateright random choice (`SelectRandom`), so the checker explores a client invoking
//! before, during or after another's command: that is what gives linearizability something to
//! check. The runtime's blocking client handle submits the operation its caller passes through
//! the very same step function (`on_random`).

use crate::actor::Effects;
use crate::config::ClientConfig;
use crate::msg::{Msg, Timer};
use crate::types::{ClientCommand, ClientId, Op, OpResult, RequestId, ServerId};
use serde::{Deserialize, Serialize};

/// The random-choice key under which a model client offers its next operation.
pub const SUBMIT: &str = "submit";

/// A client's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClientState {
    /// How many commands it submitted (the next request id).
    pub submitted: u32,
    /// The command awaiting its reply.
    pub pending: Option<ClientCommand>,
    /// The server it sends to: the last one that replied, or the next one after a retry.
    pub target: ServerId,
    /// Re-sends of the pending command so far.
    pub retries: u32,
}

impl ClientState {
    /// Whether the client has no command in flight.
    pub fn is_idle(&self) -> bool {
        self.pending.is_none()
    }
}

/// Whether a client waiting for `pending` takes a reply to `request`. The model's history uses
/// the same rule, so it records exactly the replies clients take.
pub fn takes_reply(pending: Option<&ClientCommand>, request: RequestId) -> bool {
    pending.is_some_and(|p| p.request == request)
}

/// The state a client starts in.
pub(crate) fn start(cfg: &ClientConfig, fx: &mut Effects) -> ClientState {
    let state = ClientState {
        submitted: 0,
        pending: None,
        target: ServerId(cfg.first_server as u32),
        retries: 0,
    };
    offer_next(cfg, &state, fx);
    state
}

/// Offers the next scripted operation, if any.
fn offer_next(cfg: &ClientConfig, state: &ClientState, fx: &mut Effects) {
    if let Some(op) = cfg.script.get(state.submitted as usize) {
        fx.choose_random(SUBMIT, vec![*op]);
    }
}

/// Submits `op` as the client's next command. Ignored while a command is in flight.
pub(crate) fn on_submit(
    cfg: &ClientConfig,
    me: ClientId,
    state: &ClientState,
    op: Op,
    fx: &mut Effects,
) -> Option<ClientState> {
    if !state.is_idle() {
        return None;
    }
    let command = ClientCommand {
        client: me,
        request: RequestId(state.submitted),
        op,
    };
    let next = ClientState {
        submitted: state.submitted + 1,
        pending: Some(command),
        target: state.target,
        retries: 0,
    };
    fx.send(next.target.id(), Msg::Request(command));
    arm_retry(cfg, &next, fx);
    Some(next)
}

/// A message arrives: only the reply to the pending request counts. Returns the new state and
/// the result the client takes.
pub(crate) fn on_msg(
    cfg: &ClientConfig,
    state: &ClientState,
    from: ServerId,
    msg: Msg,
    fx: &mut Effects,
) -> Option<(ClientState, OpResult)> {
    let Msg::Reply { request, result } = msg else {
        return None; // Clients only take replies.
    };
    if !takes_reply(state.pending.as_ref(), request) || from.index() >= cfg.servers {
        return None; // A duplicate or a late reply to an earlier request.
    }
    let next = ClientState {
        submitted: state.submitted,
        pending: None,
        target: from,
        retries: 0,
    };
    if cfg.retries_max != Some(0) {
        fx.cancel_timer(Timer::ClientRetry);
    }
    offer_next(cfg, &next, fx);
    Some((next, result))
}

/// No reply in time: re-send the same request (same id) to the next server.
pub(crate) fn on_retry(
    cfg: &ClientConfig,
    state: &ClientState,
    fx: &mut Effects,
) -> Option<ClientState> {
    let pending = state.pending?;
    if cfg.retries_max.is_some_and(|max| state.retries >= max) {
        return None;
    }
    let next = ClientState {
        submitted: state.submitted,
        pending: Some(pending),
        target: ServerId((state.target.0 + 1) % cfg.servers as u32),
        retries: state.retries + 1,
    };
    fx.send(next.target.id(), Msg::Request(pending));
    arm_retry(cfg, &next, fx);
    Some(next)
}

fn arm_retry(cfg: &ClientConfig, state: &ClientState, fx: &mut Effects) {
    if cfg.retries_max.is_none_or(|max| state.retries < max) {
        fx.set_timer(Timer::ClientRetry, cfg.timing.client_retry.clone());
    }
}
