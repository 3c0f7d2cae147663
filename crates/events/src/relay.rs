//! The relay: one task per target that holds the target's lease, reads the outbox after the
//! target's position, publishes, and moves the position on once the broker has confirmed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use fathom_store::{DeadLetter, Store, now};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use uuid::Uuid;

use crate::{Envelope, Target};

/// How the relay behaves. See `docs/events.md` and `docs/configuration.md`.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The CloudEvents `source` of every event: a URI reference naming this catalogue.
    pub source: String,
    /// The most events published in one batch (and confirmed together).
    pub batch: u32,
    /// How often an idle relay looks for new events.
    pub poll: Duration,
    /// How long a relay's hold on a target lasts without renewal; another replica takes the
    /// target over after it lapses. Renewed when half of it is left, and looked at by the replicas
    /// standing by every eighth of it: a dead holder's target moves within 1⅛ leases (27 s by
    /// default).
    pub lease: Duration,
    /// The longest wait between two attempts while a target fails.
    pub backoff_max: Duration,
    /// How long a batch may take: a broker that has not confirmed it by then has failed; a
    /// webhook subscription stops early and records what it delivered. At most a third of the
    /// lease is used.
    pub publish_timeout: Duration,
    /// How long delivered events stay in the outbox.
    pub retention: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            source: "/fathom".to_owned(),
            batch: 1_000,
            poll: Duration::from_millis(100),
            lease: Duration::from_secs(24),
            backoff_max: Duration::from_secs(30),
            publish_timeout: Duration::from_secs(30),
            retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// What a target's relay is doing, for readiness and operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetState {
    Starting,
    /// This replica holds the target and its last attempt succeeded.
    Delivering,
    /// Another replica holds the target.
    Standby,
    /// The last attempts failed; events wait in the outbox.
    Degraded {
        error: String,
        failures: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetHealth {
    pub name: String,
    pub state: TargetState,
    /// Events this replica has had confirmed since it started.
    pub delivered: u64,
}

type Health = Arc<Mutex<Vec<TargetHealth>>>;

/// A running task and the sender that stops it.
type Task = (watch::Sender<bool>, JoinHandle<()>);

/// Relays the outbox of `store` to targets.
#[derive(Debug)]
pub struct Relay {
    store: Store,
    config: RelayConfig,
    /// Who holds a lease: this process, unique across restarts.
    owner: String,
}

impl Relay {
    pub fn new(store: Store, config: RelayConfig) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "fathom".to_owned());
        let owner = format!("{host}:{}:{}", std::process::id(), Uuid::now_v7());
        Self {
            store,
            config,
            owner,
        }
    }

    /// Starts one task per target, and one that prunes delivered events. More targets can be
    /// added, and removed, while the relay runs.
    pub fn spawn(self, targets: Vec<Target>) -> RelayHandle {
        let relay = Arc::new(self);
        let (stop_pruning, stopping) = watch::channel(false);
        let pruning = tokio::spawn(prune(Arc::clone(&relay), stopping));
        let handle = RelayHandle {
            relay,
            tasks: Mutex::default(),
            pruning: Mutex::new(Some((stop_pruning, pruning))),
            health: Health::default(),
        };
        for target in targets {
            handle.add(target);
        }
        handle
    }

    async fn run(&self, mut target: Target, health: Health, mut stopping: watch::Receiver<bool>) {
        let name = target.name().to_owned();
        let report = |state: TargetState, delivered: u64| {
            let mut all = health.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(entry) = all.iter_mut().find(|entry| entry.name == name) {
                entry.state = state;
                entry.delivered += delivered;
            }
        };
        let mut held: Option<(Instant, i64)> = None;
        let mut failures = 0_u32;
        while !*stopping.borrow() {
            let position = match held {
                Some((until, position)) if until > Instant::now() + self.config.lease / 2 => {
                    position
                }
                _ => match self.lease(&name, target.start()).await {
                    Ok(Some(position)) => {
                        held = Some((Instant::now() + self.config.lease, position));
                        position
                    }
                    Ok(None) => {
                        held = None;
                        report(TargetState::Standby, 0);
                        pause(&mut stopping, self.config.lease / 8).await;
                        continue;
                    }
                    Err(error) => {
                        tracing::warn!(target = %name, %error, "cannot lease the event target");
                        pause(&mut stopping, self.config.poll * 10).await;
                        continue;
                    }
                },
            };
            let events = match self.store.events_after(position, self.config.batch).await {
                Ok(events) if events.is_empty() => {
                    pause(&mut stopping, self.config.poll).await;
                    continue;
                }
                Ok(events) => events,
                Err(error) => {
                    tracing::warn!(target = %name, %error, "cannot read the outbox");
                    pause(&mut stopping, self.config.poll * 10).await;
                    continue;
                }
            };
            let envelopes: Vec<Envelope> = events
                .iter()
                .map(|event| Envelope::new(&self.config.source, event))
                .collect();
            // A batch ends well inside the lease, which is renewed between batches.
            let budget = self.config.publish_timeout.min(self.config.lease / 3);
            let publishing =
                tracing::info_span!("publish", target = %name, events = envelopes.len());
            let published =
                tracing::Instrument::instrument(target.publish(&envelopes, budget), publishing);
            let (delivered, failed) = match published.await {
                Ok(confirmed) => (confirmed, None),
                Err(partial) => (partial.delivered, Some(partial.error)),
            };
            if delivered > 0 {
                failures = 0;
                metrics::counter!("fathom_events_published_total", "target" => name.clone())
                    .increment(delivered as u64);
                let last = events[delivered - 1].seq;
                match self
                    .store
                    .move_event_target(&name, &self.owner, last, now())
                    .await
                {
                    Ok(true) => {
                        held = held.map(|(until, _)| (until, last));
                        report(TargetState::Delivering, delivered as u64);
                    }
                    Ok(false) => {
                        tracing::warn!(target = %name, "lost the event target to another relay");
                        held = None;
                        continue;
                    }
                    Err(error) => {
                        // Published but not recorded: the batch goes again (at least once).
                        tracing::warn!(target = %name, %error, "cannot record the delivery");
                        held = None;
                        pause(&mut stopping, self.config.poll * 10).await;
                        continue;
                    }
                }
            }
            let Some(error) = failed else { continue };
            failures = failures.saturating_add(1);
            metrics::counter!("fathom_event_publish_failures_total", "target" => name.clone())
                .increment(1);
            let head = &events[delivered];
            if target.max_attempts().is_some_and(|max| failures >= max) {
                let letter = DeadLetter {
                    target: name.clone(),
                    seq: head.seq,
                    event_id: head.id,
                    attempts: i32::try_from(failures).unwrap_or(i32::MAX),
                    error: error.to_string(),
                    failed_at: now(),
                };
                tracing::warn!(target = %name, event = %head.id, %error, failures, "giving up on an event: dead letter");
                match self.store.dead_letter(&letter, &self.owner).await {
                    Ok(true) => {
                        failures = 0;
                        held = held.map(|(until, _)| (until, head.seq));
                    }
                    Ok(false) => held = None,
                    Err(error) => {
                        tracing::warn!(target = %name, %error, "cannot record a dead letter")
                    }
                }
                continue;
            }
            let wait = backoff(failures, self.config.backoff_max);
            tracing::warn!(target = %name, %error, failures, retry_in = ?wait, "cannot publish events");
            report(
                TargetState::Degraded {
                    error: error.to_string(),
                    failures,
                },
                0,
            );
            pause(&mut stopping, wait).await;
        }
        if held.is_some()
            && let Err(error) = self.store.release_event_target(&name, &self.owner).await
        {
            tracing::warn!(target = %name, %error, "cannot release the event target");
        }
    }

    async fn lease(&self, name: &str, start: i64) -> fathom_store::StoreResult<Option<i64>> {
        let at = now();
        self.store
            .lease_event_target(name, &self.owner, start, at, at + self.config.lease)
            .await
    }
}

/// Waits `duration` or until the relay stops, whichever comes first.
async fn pause(stopping: &mut watch::Receiver<bool>, duration: Duration) {
    tokio::select! {
        () = tokio::time::sleep(duration) => {}
        _ = stopping.changed() => {}
    }
}

/// Exponential backoff from 200 ms, capped, with jitter (half to all of it) so that replicas and
/// targets do not retry in step.
fn backoff(failures: u32, max: Duration) -> Duration {
    let exponential =
        Duration::from_millis(200).saturating_mul(1 << failures.min(16).saturating_sub(1));
    let capped = exponential.min(max);
    let jitter = 0.5 + f64::from(getrandom::u32().unwrap_or(0)) / f64::from(u32::MAX) / 2.0;
    capped.mul_f64(jitter)
}

/// Deletes delivered events older than the retention period, every ten minutes.
async fn prune(relay: Arc<Relay>, mut stopping: watch::Receiver<bool>) {
    while !*stopping.borrow() {
        let before = now() - relay.config.retention;
        match relay.store.prune_events(before).await {
            Ok(pruned) => tracing::debug!(pruned, "pruned delivered events"),
            Err(error) => tracing::warn!(%error, "cannot prune delivered events"),
        }
        pause(&mut stopping, Duration::from_secs(600)).await;
    }
}

/// A view of what each target's relay is doing.
#[derive(Debug, Clone, Default)]
pub struct RelayHealth(Health);

impl RelayHealth {
    pub fn targets(&self) -> Vec<TargetHealth> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The running relay.
#[derive(Debug)]
pub struct RelayHandle {
    relay: Arc<Relay>,
    /// Each target's task, by the target's name.
    tasks: Mutex<HashMap<String, Task>>,
    pruning: Mutex<Option<Task>>,
    health: Health,
}

impl RelayHandle {
    /// What each target's relay is doing, now and later (for readiness checks).
    pub fn health(&self) -> RelayHealth {
        RelayHealth(Arc::clone(&self.health))
    }

    /// Starts relaying to one more target (nothing if one of that name is already running).
    pub fn add(&self, target: Target) {
        let name = target.name().to_owned();
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        if tasks.contains_key(&name) {
            return;
        }
        self.health
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(TargetHealth {
                name: name.clone(),
                state: TargetState::Starting,
                delivered: 0,
            });
        let (stop, stopping) = watch::channel(false);
        let relay = Arc::clone(&self.relay);
        let health = Arc::clone(&self.health);
        let task = tokio::spawn(async move { relay.run(target, health, stopping).await });
        tasks.insert(name, (stop, task));
    }

    /// Stops relaying to the target `name`; it finishes its batch and releases its lease.
    pub fn remove(&self, name: &str) {
        if let Some((stop, _)) = self
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name)
        {
            let _ = stop.send(true);
        }
        self.health
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|entry| entry.name != name);
    }

    /// The names of the targets being relayed to.
    pub fn targets(&self) -> Vec<String> {
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }

    /// Lets each relay finish its batch and release its target, for at most `within`.
    pub async fn stop(&self, within: Duration) {
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        let pruning = self
            .pruning
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let mut running = Vec::with_capacity(tasks.len() + 1);
        for (stop, task) in tasks.into_values().chain(pruning) {
            let _ = stop.send(true);
            running.push(task);
        }
        if tokio::time::timeout(within, futures::future::join_all(running))
            .await
            .is_err()
        {
            tracing::warn!("the relay did not stop in time");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_with_jitter() {
        let max = Duration::from_secs(30);
        let first = backoff(1, max);
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(200));
        let fourth = backoff(4, max);
        assert!(fourth >= Duration::from_millis(800) && fourth <= Duration::from_millis(1600));
        let late = backoff(40, max);
        assert!(late >= max / 2 && late <= max);
    }
}
