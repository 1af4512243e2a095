//! A client: submits its commands one at a time, retries on silence with the same request id,
//! and takes only the reply to its current request (`specs/multipaxos.md`, "Clients").
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
    /// The command awaiting its reply.
    pub pending: Option<ClientCommand<M>>,
    /// The server it sends to: the last one that replied, or the next one after a retry.
    pub target: ServerId,
    /// Re-sends of the pending command so far.
    pub retries: u32,
}

impl<M: StateMachine> ClientState<M> {
    /// Whether the client has no command in flight.
    pub fn is_idle(&self) -> bool {
        self.pending.is_none()
    }
}

/// Whether a client waiting for `pending` takes a reply to `request`. The model's history uses
/// the same rule, so it records exactly the replies clients take.
pub fn takes_reply<M: StateMachine>(
    pending: Option<&ClientCommand<M>>,
    request: RequestId,
) -> bool {
    pending.is_some_and(|p| p.request == request)
}

/// The state a client starts in. Starting has no effects.
pub fn start<M: StateMachine>(cfg: &ClientConfig) -> ClientState<M> {
    ClientState {
        submitted: 0,
        pending: None,
        target: ServerId(cfg.first_server as u32),
        retries: 0,
    }
}

/// Submits `op` as client `me`'s next command: sends the request and arms the retry timer.
/// Ignored (no effects, state unchanged) while a command is in flight.
pub fn submit<M: StateMachine>(
    cfg: &ClientConfig,
    me: ClientId,
    state: &mut Cow<ClientState<M>>,
    op: M::Op,
) -> Output<M> {
    let mut fx = Outbox::default();
    if !state.is_idle() {
        fx.took(Rule::ClientBusyIgnored);
        return fx.finish(None);
    }
    fx.took(Rule::ClientSubmit);
    let command = ClientCommand {
        client: me,
        request: RequestId(state.submitted),
        op,
    };
    let next = ClientState {
        submitted: state.submitted + 1,
        pending: Some(command.clone()),
        target: state.target,
        retries: 0,
    };
    fx.send(next.target, Msg::Request(command.clone()));
    arm_retry(cfg, &next, &mut fx);
    *state = Cow::Owned(next);
    fx.finish(None)
}

/// A message arrives: only a server's reply to the pending request counts. Taking it ends the
/// command ([`crate::output::Effect::Complete`] carries the result).
pub fn on_message<M: StateMachine>(
    cfg: &ClientConfig,
    state: &mut Cow<ClientState<M>>,
    from: NodeId,
    msg: Msg<M>,
) -> Output<M> {
    let mut fx = Outbox::default();
    let Msg::Reply { request, result } = msg else {
        fx.took(Rule::ClientReplyIgnored);
        return fx.finish(None); // Clients only take replies.
    };
    let Some(from) = from.as_server(cfg.servers) else {
        fx.took(Rule::ClientReplyIgnored);
        return fx.finish(None); // Not from a server of the cluster.
    };
    if !takes_reply(state.pending.as_ref(), request) {
        fx.took(Rule::ClientReplyIgnored);
        return fx.finish(None); // A duplicate or a late reply to an earlier request.
    }
    fx.took(Rule::ClientReplyTaken);
    *state = Cow::Owned(ClientState {
        submitted: state.submitted,
        pending: None,
        target: from,
        retries: 0,
    });
    if cfg.retries_max != Some(0) {
        fx.cancel_timer(Timer::ClientRetry);
    }
    fx.complete(request, result);
    fx.finish(None)
}

/// A timer fired: on `ClientRetry`, re-send the same request (same id) to the next server.
pub fn on_timeout<M: StateMachine>(
    cfg: &ClientConfig,
    state: &mut Cow<ClientState<M>>,
    timer: Timer,
) -> Output<M> {
    let mut fx = Outbox::default();
    if timer != Timer::ClientRetry {
        return fx.finish(None); // Server timers mean nothing to a client.
    }
    let Some(pending) = state.pending.clone() else {
        return fx.finish(None); // Nothing in flight.
    };
    if cfg.retries_max.is_some_and(|max| state.retries >= max) {
        fx.took(Rule::ClientRetryBoundReached);
        return fx.finish(None); // The bound on re-sends (model checking only).
    }
    fx.took(Rule::ClientRetry);
    let next = ClientState {
        submitted: state.submitted,
        pending: Some(pending.clone()),
        target: ServerId((state.target.0 + 1) % cfg.servers as u32),
        retries: state.retries + 1,
    };
    fx.send(next.target, Msg::Request(pending));
    arm_retry(cfg, &next, &mut fx);
    *state = Cow::Owned(next);
    fx.finish(None)
}

fn arm_retry<M: StateMachine>(cfg: &ClientConfig, state: &ClientState<M>, fx: &mut Outbox<M>) {
    if cfg.retries_max.is_none_or(|max| state.retries < max) {
        fx.set_timer(Timer::ClientRetry, cfg.timing.client_retry.clone());
    }
}
