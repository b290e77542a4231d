//! Injecting faults: putting a [`Fault`] into a running environment and taking it out
//! again, through the fault layer and the LLM fake. The fault values themselves, and
//! their one parser, are in the `harness-faults` crate, which knows no environment.

use std::future::Future;
use std::time::Duration;

use crate::environment::{proxy, Environment};
pub use crate::faults::{Fault, Target};
use crate::faults::{FaultError, Stream, Toxic};
use crate::llm::{FailureMode, LatencyProfile};

/// A fault that could not be applied or removed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The fault layer refused.
    #[error(transparent)]
    Layer(#[from] FaultError),
    /// The LLM fake refused the profile.
    #[error(transparent)]
    Llm(#[from] crate::llm::LlmFakeError),
}

fn proxy_of(t: Target) -> &'static str {
    match t {
        Target::Db => proxy::POSTGRES,
        Target::Redis => proxy::REDIS,
        Target::Llm => proxy::LLM,
    }
}

/// How long the LLM hangs for `--llm-timeout`: longer than any SUT's LLM timeout.
const LLM_HANG: Duration = Duration::from_secs(600);

/// Puts a fault into an environment and takes it out again.
///
/// ```no_run
/// # async fn demo(env: &harness_environment::Environment) -> Result<(), harness_engine::chaos::ApplyError> {
/// use harness_engine::chaos::{Fault, Inject};
/// let fault: Fault = "llm-fail 1.0".parse().expect("a fault");
/// fault.apply(env).await?;
/// fault.remove(env, &harness_llm_fake::LatencyProfile::instant()).await?;
/// # Ok(()) }
/// ```
pub trait Inject {
    /// Puts the fault in place.
    fn apply(&self, env: &Environment) -> impl Future<Output = Result<(), ApplyError>> + Send;
    /// Takes the fault away again; `baseline` is the LLM profile to restore.
    fn remove(
        &self,
        env: &Environment,
        baseline: &LatencyProfile,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send;
}

impl Inject for Fault {
    async fn apply(&self, env: &Environment) -> Result<(), ApplyError> {
        let faults = env.faults();
        let llm = env.llm();
        let ms = |d: &Duration| d.as_millis().min(u32::MAX as u128) as u32;
        match self {
            Fault::LlmFail { rate, status } => {
                llm.set_failure(FailureMode {
                    rate: *rate,
                    status: *status,
                });
                Ok(())
            }
            Fault::LlmLatency(d) => set_llm_latency(env, *d),
            Fault::LlmTimeout => set_llm_latency(env, LLM_HANG),
            Fault::LlmStream(s) => {
                llm.set_stream_fault(*s);
                Ok(())
            }
            Fault::Latency(t, d) => {
                let toxic = Toxic::Latency {
                    ms: ms(d),
                    jitter_ms: 0,
                };
                Ok(faults
                    .add(proxy_of(*t), Stream::Downstream, toxic, 1.0)
                    .await?)
            }
            Fault::Down(t) => Ok(faults.disable(proxy_of(*t)).await?),
            Fault::Bandwidth(t, kbps) => {
                let toxic = Toxic::Bandwidth { kbps: *kbps };
                Ok(faults
                    .add(proxy_of(*t), Stream::Downstream, toxic, 1.0)
                    .await?)
            }
            Fault::Slicer(t) => {
                let slicer = Toxic::Slicer {
                    average_size: 16,
                    size_variation: 8,
                    delay_us: 2_000,
                };
                Ok(faults
                    .add(proxy_of(*t), Stream::Downstream, slicer, 1.0)
                    .await?)
            }
        }
    }

    async fn remove(&self, env: &Environment, baseline: &LatencyProfile) -> Result<(), ApplyError> {
        let faults = env.faults();
        match self {
            Fault::LlmFail { .. } => {
                env.llm().set_failure(FailureMode::NONE);
                Ok(())
            }
            Fault::LlmLatency(_) | Fault::LlmTimeout => env
                .llm()
                .set_profile(baseline.clone())
                .map_err(ApplyError::Llm),
            Fault::Latency(t, _) | Fault::Bandwidth(t, _) | Fault::Slicer(t) => {
                Ok(faults.clear(proxy_of(*t)).await?)
            }
            Fault::Down(t) => Ok(faults.enable(proxy_of(*t)).await?),
            Fault::LlmStream(_) => {
                env.llm().set_stream_fault(crate::llm::StreamFault::None);
                Ok(())
            }
        }
    }
}

fn set_llm_latency(env: &Environment, d: Duration) -> Result<(), ApplyError> {
    let profile = LatencyProfile {
        base_ms: d.as_secs_f64() * 1000.0,
        spread: 0.0,
        per_output_token_ms: 0.0,
        output_tokens: 64,
    };
    env.llm().set_profile(profile).map_err(ApplyError::Llm)
}
