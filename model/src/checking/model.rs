//! The checked model: stateright's `Model` for [`PaxosModel`]. Its states and actions are the
//! wrapped `ActorModel`'s; after each step it updates the ghost record and it drops the actions
//! that leave the fault bounds (see [`super::system`]).

use super::properties;
use super::system::{acting, Action, PaxosModel, State};
use crate::actor;
use crate::types::ServerId;
use stateright::actor::{ActorModelAction, Network};
use stateright::{Model, Path, Property};

impl Model for PaxosModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let mut states = self.inner.init_states();
        for state in &mut states {
            for actor in 0..self.cfg.servers {
                self.observe(state, actor);
            }
        }
        states
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        self.inner.actions(state, actions);
        let crash_budget_left = (state.history.crashes as usize) < self.cfg.crashes;
        actions.retain(|action| match action {
            ActorModelAction::Crash(id) => crash_budget_left && self.is_server(usize::from(*id)),
            _ => true,
        });
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let actor = acting(&action);
        let mut next = match &action {
            ActorModelAction::Crash(_) => {
                let mut next = self.inner.next_state(last, action)?;
                next.history.crashes += 1;
                next
            }
            ActorModelAction::Recover(id) => {
                let mut next = self.inner.next_state(last, action.clone())?;
                next.history.recovered.insert(ServerId(actor::node(*id).0));
                next
            }
            _ => self.inner.next_state(last, action)?,
        };
        if self.is_server(actor) {
            self.observe(&mut next, actor);
        }
        if let Network::UnorderedDuplicating(_, last_delivered) = &mut next.network {
            // stateright remembers the last envelope delivered so that a delivery that changes
            // nothing still yields a new state. Nothing reads it (actions come from the set of
            // envelopes), so it only multiplies states: forget it.
            *last_delivered = None;
        }
        Some(next)
    }

    fn format_action(&self, action: &Action) -> String {
        self.inner.format_action(action)
    }

    fn format_step(&self, last: &State, action: Action) -> Option<String> {
        self.inner.format_step(last, action)
    }

    fn as_svg(&self, path: Path<State, Action>) -> Option<String> {
        self.inner.as_svg(path)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        properties::all(&self.cfg)
    }
}
