//! Metadata profiles: a registry of versioned JSON Schema documents (admins register, anyone reads)
//! and the check of every dataset write against the versions it declares. Versions are immutable,
//! so each is compiled once and kept for the life of the process.

use std::sync::{Arc, PoisonError};

use fathom_model::{
    DatasetMetadata, Principal, ProfileRef, ProfileVersion, Slug, ValidationErrors, Version,
};
use fathom_profiles::{CompiledProfile, incompatibilities};
use fathom_store::StoreError;
use serde::Serialize;
use serde_json::Value;

use super::{Catalogue, Result};
use crate::access;
use crate::codes::Code;
use crate::error::ServiceError;
use fathom_store::now;

/// A profile and its versions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProfileSummary {
    pub profile: String,
    /// Oldest first.
    pub versions: Vec<String>,
    pub latest: String,
}

impl Catalogue {
    /// Registers a version of a profile (admin). The schema must be valid JSON Schema 2020-12 with
    /// local references only; a version after the latest, and compatible with it unless its major
    /// version is greater.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn register_profile_version(
        &self,
        principal: &Principal,
        profile: &str,
        version: &str,
        schema: Value,
    ) -> Result<ProfileVersion> {
        access::require_administrator(principal, "only an admin may register profiles")?;
        let profile = Slug::parse(profile).map_err(|m| ValidationErrors::single("/profile", m))?;
        let version =
            Version::parse(version).map_err(|m| ValidationErrors::single("/version", m))?;
        let compiled = CompiledProfile::compile(&schema).map_err(|problems| {
            ValidationErrors(
                problems
                    .into_iter()
                    .map(|p| fathom_model::FieldError {
                        pointer: format!("/schema{}", p.pointer),
                        message: p.message,
                    })
                    .collect(),
            )
        })?;
        let existing = self
            .store
            .profile_versions(Some(profile.as_str()))
            .await
            .map_err(ServiceError::Internal)?;
        if let Some(latest) = existing.last() {
            if version <= latest.version {
                return Err(ServiceError::refused(
                    Code::VersionNotNewer,
                    format!(
                        "{profile} {version}: a new version must come after the latest, {}",
                        latest.version
                    ),
                ));
            }
            if version.major == latest.version.major {
                let problems = incompatibilities(&latest.schema, &schema);
                if !problems.is_empty() {
                    let next_major = format!("{}.0.0", latest.version.major + 1);
                    return Err(ValidationErrors(
                        problems
                            .into_iter()
                            .map(|p| fathom_model::FieldError {
                                pointer: format!("/schema{}", p.pointer),
                                message: format!(
                                    "{} (incompatible with {}; only a new major version such as {next_major} may break compatibility)",
                                    p.message, latest.version
                                ),
                            })
                            .collect(),
                    )
                    .into());
                }
            }
        }
        let registered = ProfileVersion {
            profile,
            version,
            schema,
            created_by: principal.name.clone(),
            created_at: now(),
        };
        self.store
            .insert_profile_version(&registered)
            .await
            .map_err(|e| match e {
                StoreError::Duplicate { .. } => ServiceError::refused(
                    Code::VersionNotNewer,
                    format!(
                        "{} {} is already registered",
                        registered.profile, registered.version
                    ),
                ),
                other => ServiceError::Internal(other),
            })?;
        let key = ProfileRef {
            profile: registered.profile.clone(),
            version,
        };
        self.compiled_profiles
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, Arc::new(compiled));
        Ok(registered)
    }

    /// Every profile with its versions.
    pub async fn profiles(&self) -> Result<Vec<ProfileSummary>> {
        let versions = self
            .store
            .profile_versions(None)
            .await
            .map_err(ServiceError::Internal)?;
        let mut summaries: Vec<ProfileSummary> = Vec::new();
        for version in versions {
            match summaries.last_mut() {
                Some(last) if last.profile == version.profile.as_str() => {
                    last.latest = version.version.to_string();
                    last.versions.push(last.latest.clone());
                }
                _ => summaries.push(ProfileSummary {
                    profile: version.profile.to_string(),
                    versions: vec![version.version.to_string()],
                    latest: version.version.to_string(),
                }),
            }
        }
        Ok(summaries)
    }

    pub async fn profile(&self, profile: &str) -> Result<ProfileSummary> {
        self.profiles()
            .await?
            .into_iter()
            .find(|p| p.profile == profile)
            .ok_or(ServiceError::NotFound("profile"))
    }

    pub async fn profile_version(&self, profile: &str, version: &str) -> Result<ProfileVersion> {
        let version =
            Version::parse(version).map_err(|_| ServiceError::NotFound("profile version"))?;
        self.store
            .profile_version(profile, version)
            .await
            .map_err(|e| ServiceError::from_store("profile version", e))
    }

    /// The compiled schema of a declared profile version, compiled on first use; `None` if no
    /// such version is registered.
    async fn compiled_profile(
        &self,
        declared: &ProfileRef,
    ) -> Result<Option<Arc<CompiledProfile>>> {
        let cached = self
            .compiled_profiles
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(declared)
            .cloned();
        if cached.is_some() {
            return Ok(cached);
        }
        let registered = match self
            .store
            .profile_version(declared.profile.as_str(), declared.version)
            .await
        {
            Ok(registered) => registered,
            Err(StoreError::NotFound) => return Ok(None),
            Err(other) => return Err(ServiceError::Internal(other)),
        };
        let compiled = CompiledProfile::compile(&registered.schema).map_err(|problems| {
            ServiceError::Internal(StoreError::Corrupt(format!(
                "the registered profile {} {} does not compile: {problems:?}",
                declared.profile, declared.version
            )))
        })?;
        let compiled = Arc::new(compiled);
        self.compiled_profiles
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(declared.clone(), Arc::clone(&compiled));
        Ok(Some(compiled))
    }

    /// Checks a dataset's extensions against the profile versions it declares: every violation,
    /// each at its pointer (`/extensions/{profile}/…`).
    pub(super) async fn check_profiles(&self, metadata: &DatasetMetadata) -> Result<()> {
        let mut errors = ValidationErrors::default();
        let empty = Value::Object(serde_json::Map::new());
        for (i, declared) in metadata.conforms_to.iter().enumerate() {
            let Some(compiled) = self.compiled_profile(declared).await? else {
                errors.push(
                    format!("/conforms_to/{i}"),
                    format!(
                        "no profile `{}` is registered at version {}",
                        declared.profile, declared.version
                    ),
                );
                continue;
            };
            let fields = metadata
                .extensions
                .get(declared.profile.as_str())
                .unwrap_or(&empty);
            for problem in compiled.violations(fields) {
                errors.push(
                    format!("/extensions/{}{}", declared.profile, problem.pointer),
                    format!(
                        "{} (profile {} {})",
                        problem.message, declared.profile, declared.version
                    ),
                );
            }
        }
        errors.into_result(|| ()).map_err(Into::into)
    }
}
