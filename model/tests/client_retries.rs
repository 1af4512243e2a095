//! The model's bound on a client's re-sends (`CheckConfig::client_retries`), which no scenario
//! can set (`ClientConfig::retries_max` is `pub(crate)`: a real client retries without limit):
//! the retry timer is armed only while a re-send is left, each re-send goes to the next server,
//! and a retry timer at the bound is ignored: no effects, state unchanged.

use paxos_model::checking::CheckConfig;
use paxos_model::client::{self, ClientState};
use paxos_model::msg::{Msg, Timer};
use paxos_model::output::{Effect, Output};
use paxos_model::rules::Rule;
use paxos_model::types::{ClientId, NodeId, Op, ServerId, Value};
use std::borrow::Cow;

fn arms_retry(output: &Output) -> bool {
    output
        .effects()
        .iter()
        .any(|e| matches!(e, Effect::SetTimer(Timer::ClientRetry, _)))
}

#[test]
fn a_client_retries_up_to_its_bound_then_ignores_its_retry_timer() {
    for bound in [0, 1, 2, 3] {
        let cfg = CheckConfig {
            client_retries: bound,
            ..CheckConfig::default()
        }
        .client(0);
        let mut state: Cow<ClientState> = Cow::Owned(client::start(&cfg));
        let out = client::submit(&cfg, ClientId(3), &mut state, Op::Write(Value(1)));
        assert_eq!(arms_retry(&out), bound > 0, "bound {bound}: submit");
        let request = state.pending[0];
        for k in 1..=bound {
            let out = client::on_timeout(&cfg, &mut state, Timer::ClientRetry);
            assert!(out.rules().contains(Rule::ClientRetry), "bound {bound}");
            assert_eq!(state.retries, k);
            // Server 0 first, then 1, 2, 0, ...
            let next = ServerId(k % 3);
            assert_eq!(state.target, next);
            let sends: Vec<_> = out.sends().collect();
            assert_eq!(sends, vec![(NodeId::from(next), &Msg::Request(request))]);
            assert_eq!(arms_retry(&out), k < bound, "bound {bound}: retry {k}");
        }
        let at_bound = state.into_owned();
        let mut unchanged = Cow::Borrowed(&at_bound);
        let out = client::on_timeout(&cfg, &mut unchanged, Timer::ClientRetry);
        assert!(out.is_empty(), "bound {bound}: {out:?}");
        assert!(out.rules().contains(Rule::ClientRetryBoundReached));
        assert!(matches!(unchanged, Cow::Borrowed(_)), "bound {bound}");
    }
}
