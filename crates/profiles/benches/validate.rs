//! What profile validation adds to a write: a typical record checked against two compiled profiles
//! (the example ones). `cargo bench -p fathom-profiles --bench validate`. Prints the mean per record.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use fathom_profiles::CompiledProfile;
use serde_json::{Value, json};

const CRUISE: &str = include_str!("../../fathom/profiles/oceanographic-cruise-1.0.0.json");
const ACOUSTIC: &str = include_str!("../../fathom/profiles/acoustic-recording-1.0.0.json");
const ROUNDS: u32 = 100_000;

fn main() {
    let compile = |text: &str| {
        CompiledProfile::compile(&serde_json::from_str::<Value>(text).unwrap()).unwrap()
    };
    let started = Instant::now();
    let (cruise, acoustic) = (compile(CRUISE), compile(ACOUSTIC));
    let compiled = started.elapsed();
    let cruise_record = json!({
        "cruise_id": "LOGMEC21", "vessel": "NRV Alliance", "chief_scientist": "K. Nilsen",
        "port_of_departure": "La Spezia", "port_of_return": "La Spezia", "casts": 86,
        "quality_control": "SeaDataNet flags", "stations": [
            {"name": "L01", "latitude": 43.9, "longitude": 9.1, "depth_m": 820.0},
            {"name": "L02", "latitude": 43.7, "longitude": 9.4, "depth_m": 1310.5}
        ]
    });
    let acoustic_record = json!({
        "sample_rate_hz": 96000, "bit_depth": 24, "channels": 4, "duty_cycle": "10 min every hour",
        "hydrophone_sensitivity_db": -170.5, "frequency_band_hz": [10, 48000], "calibration": "pistonphone, 2024-03-01"
    });
    for _ in 0..1000 {
        assert!(cruise.violations(&cruise_record).is_empty());
        assert!(acoustic.violations(&acoustic_record).is_empty());
    }
    let started = Instant::now();
    for _ in 0..ROUNDS {
        assert!(cruise.violations(&cruise_record).is_empty());
        assert!(acoustic.violations(&acoustic_record).is_empty());
    }
    let per_record = started.elapsed() / ROUNDS;
    println!(
        "two profiles compiled in {:.2} ms; a record checked against both: {:.2} µs",
        compiled.as_secs_f64() * 1e3,
        per_record.as_secs_f64() * 1e6
    );
}
