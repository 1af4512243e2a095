//! A client: submits its commands, up to its window of them outstanding at once (one by
//! default), retries on silence with the same request ids, and takes only the replies to its
//! outstanding requests (`specs/multipaxos.md`, "Clients").
//!
//! Submitting is a step of its own ([`submit`]): its driver decides when. The runtime's client
//! handle submits the operation its caller passes; the model checker's adapter
//! (`crate::actor`) offers a client's next scripted operation as a choice of the environment,
//! so the checker explores a client invoking before, during or after another's command: that is
//! what gives linearizability something to check.

use crate::config::ClientConfig;
use crate::msg::{Msg, Timer};
use crate::output::{Outbox, Output};
use crate::rules::Rule;
use crate::state_machine::ClientCommand;
use crate::state_machine::{Register, StateMachine};
use crate::types::{ClientId, NodeId, RequestId, ServerId};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// A client's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ClientState<M: StateMachine = Register> {
    /// How many commands it submitted (the next request id).
    pub submitted: u32,
    /// The commands awaiting their replies, by request id (at most the window).
    pub pending: Vec<ClientCommand<M>>,
    /// The server it sends to: the last one that replied, or the next one after a retry.
    pub target: ServerId,
    /// Re-sends since the last reply taken.
    pub retries: u32,
}

impl<M: StateMachine> ClientState<M> {
    /// Whether the client has no command in flight.
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty()
    }

    /// The lowest request id the client has no reply for (`submitted` if it has them all).
    pub fn first_unanswered(&self) -> RequestId {
        self.pending
            .first()
            .map_or(RequestId(self.submitted), |c| c.request)
    }

    /// Whether a new request fits in a window of `window`: its id is below the first
    /// unanswered one plus the window, so a session keeping `window` results can answer every
    /// request the client may retry ([`crate::state_machine::Session`]).
    pub fn can_submit(&self, window: u32) -> bool {
        u64::from(self.submitted) < u64::from(self.first_unanswered().0) + u64::from(window)
    }

    /// The outstanding command with id `request`, if any.
    pub fn awaiting(&self, request: RequestId) -> Option<&ClientCommand<M>> {
        self.pending.iter().find(|c| c.request == request)
    }
}

/// Whether a client waiting for `pending` takes a reply to `request`. The model's history uses
/// the same rule, so it records exactly the replies clients take.
pub fn takes_reply<M: StateMachine>(pending: &[ClientCommand<M>], request: RequestId) -> bool {
    pending.iter().any(|p| p.request == request)
}

/// The state a client starts in. Starting has no effects.
pub fn start<M: StateMachine>(cfg: &ClientConfig) -> ClientState<M> {
    ClientState {
        submitted: 0,
        pending: Vec::new(),
        target: ServerId(cfg.first_server as u32),
        retries: 0,
    }
}

/// Submits `op` as client `me`'s next command: sends the request and, if nothing else was in
/// flight, arms the retry timer. Ignored (no effects, state unchanged) while the window is
/// full.
pub fn submit<M: StateMachine>(
    cfg: &ClientConfig,
    me: ClientId,
    state: &mut Cow<ClientState<M>>,
    op: M::Op,
) -> Output<M> {
    submit_into(cfg, me, state, op, Outbox::default())
}

/// [`submit`], its effects collected in `fx`.
pub(crate) fn submit_into<M: StateMachine>(
    cfg: &ClientConfig,
    me: ClientId,
    state: &mut Cow<ClientState<M>>,
    op: M::Op,
    mut fx: Outbox<M>,
) -> Output<M> {
    if !state.can_submit(cfg.window) {
        fx.took(Rule::ClientBusyIgnored);
        return fx.finish(None);
    }
    let idle = state.is_idle();
    fx.took(if idle {
        Rule::ClientSubmit
    } else {
        Rule::ClientSubmitPipelined
    });
    let command = ClientCommand {
        client: me,
        request: RequestId(state.submitted),
        op,
    };
    let next = state.to_mut();
    next.submitted += 1;
    next.pending.push(command.clone());
    if idle {
        next.retries = 0;
    }
    fx.send(next.target, Msg::Request(command));
    if idle {
        arm_retry(cfg, next, &mut fx);
    }
    fx.finish(None)
}

/// A message arrives: only a server's reply to an outstanding request counts. Taking it ends
/// that command ([`crate::output::Effect::Complete`] carries the result).
pub fn on_message<M: StateMachine>(
    cfg: &ClientConfig,
    state: &mut Cow<ClientState<M>>,
    from: NodeId,
    msg: Msg<M>,
) -> Output<M> {
    on_message_into(cfg, state, from, msg, Outbox::default())
}

/// [`on_message`], its effects collected in `fx`.
pub(crate) fn on_message_into<M: StateMachine>(
    cfg: &ClientConfig,
    state: &mut Cow<ClientState<M>>,
    from: NodeId,
    msg: Msg<M>,
    mut fx: Outbox<M>,
) -> Output<M> {
    let Msg::Reply { request, result } = msg else {
        fx.took(Rule::ClientReplyIgnored);
        return fx.finish(None); // Clients only take replies.
    };
    let Some(from) = from.as_server(cfg.servers) else {
        fx.took(Rule::ClientReplyIgnored);
        return fx.finish(None); // Not from a server of the cluster.
    };
    if !takes_reply(&state.pending, request) {
        fx.took(Rule::ClientReplyIgnored);
        return fx.finish(None); // A duplicate or a late reply to an earlier request.
    }
    fx.took(Rule::ClientReplyTaken);
    let next = state.to_mut();
    next.pending.retain(|c| c.request != request);
    next.target = from;
    next.retries = 0;
    if next.pending.is_empty() && cfg.retries_max != Some(0) {
        fx.cancel_timer(Timer::ClientRetry);
    }
    fx.complete(request, result);
    fx.finish(None)
}

/// A timer fired: on `ClientRetry`, re-send every outstanding request (same ids) to the next
/// server.
pub fn on_timeout<M: StateMachine>(
    cfg: &ClientConfig,
    state: &mut Cow<ClientState<M>>,
    timer: Timer,
) -> Output<M> {
    on_timeout_into(cfg, state, timer, Outbox::default())
}

/// [`on_timeout`], its effects collected in `fx`.
pub(crate) fn on_timeout_into<M: StateMachine>(
    cfg: &ClientConfig,
    state: &mut Cow<ClientState<M>>,
    timer: Timer,
    mut fx: Outbox<M>,
) -> Output<M> {
    if timer != Timer::ClientRetry {
        return fx.finish(None); // Server timers mean nothing to a client.
    }
    if state.is_idle() {
        return fx.finish(None); // Nothing in flight.
    }
    if cfg.retries_max.is_some_and(|max| state.retries >= max) {
        fx.took(Rule::ClientRetryBoundReached);
        return fx.finish(None); // The bound on re-sends (model checking only).
    }
    fx.took(Rule::ClientRetry);
    let next = state.to_mut();
    next.target = ServerId((next.target.0 + 1) % cfg.servers as u32);
    next.retries += 1;
    for command in &next.pending {
        fx.send(next.target, Msg::Request(command.clone()));
    }
    arm_retry(cfg, next, &mut fx);
    fx.finish(None)
}

fn arm_retry<M: StateMachine>(cfg: &ClientConfig, state: &ClientState<M>, fx: &mut Outbox<M>) {
    if cfg.retries_max.is_none_or(|max| state.retries < max) {
        fx.set_timer(Timer::ClientRetry, cfg.timing.client_retry.clone());
    }
}
