//! FREQ against IoTDB 1.0.1's own codec: pages its Java encoder wrote (fixture
//! `tests/fixtures/freq_iotdb_1.0.1.txt`) must decode to the doubles its Java decoder read, up to
//! the rounding of two different inverse-DCT implementations; our encoder must keep the same
//! 40 dB signal-to-noise bound on the same values and, choosing components the same way, write
//! the same bytes.

use tsfile::encoding::freq;

struct Case {
    name: String,
    values: Vec<f64>,
    bytes: Vec<u8>,
    decoded: Vec<f64>,
}

fn cases() -> Vec<Case> {
    let text = include_str!("fixtures/freq_iotdb_1.0.1.txt");
    let mut out: Vec<Case> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (key, rest) = line.split_once(' ').unwrap();
        match key {
            "case" => out.push(Case {
                name: rest.into(),
                values: vec![],
                bytes: vec![],
                decoded: vec![],
            }),
            "values" => {
                out.last_mut().unwrap().values =
                    rest.split(',').map(|v| v.parse().unwrap()).collect()
            }
            "bytes" => {
                out.last_mut().unwrap().bytes = (0..rest.len() / 2)
                    .map(|i| u8::from_str_radix(&rest[2 * i..2 * i + 2], 16).unwrap())
                    .collect()
            }
            "decoded" => {
                out.last_mut().unwrap().decoded = rest
                    .split(' ')
                    .map(|h| f64::from_bits(u64::from_str_radix(h, 16).unwrap()))
                    .collect()
            }
            other => panic!("unknown fixture key {other}"),
        }
    }
    out
}

fn snr_db(x: &[f64], y: &[f64]) -> f64 {
    let sig: f64 = x.iter().map(|v| v * v).sum();
    let err: f64 = x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum();
    10.0 * (sig / err).log10()
}

#[test]
fn pages_written_by_iotdb_decode_as_iotdb_reads_them() {
    let cases = cases();
    assert_eq!(cases.len(), 3);
    for c in &cases {
        let mut got = Vec::new();
        freq::decode_f64(&c.bytes, c.values.len(), &mut got).unwrap();
        assert_eq!(got.len(), c.decoded.len(), "{}", c.name);
        let scale = c.values.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        for (i, (a, b)) in got.iter().zip(&c.decoded).enumerate() {
            assert!(
                (a - b).abs() <= 1e-12 * scale,
                "{} value {i}: ours {a} vs IoTDB {b}",
                c.name
            );
        }
        // integer series round the same way
        let mut ints = Vec::new();
        freq::decode_i64(&c.bytes, c.values.len(), &mut ints).unwrap();
        let want: Vec<i64> = c.decoded.iter().map(|v| v.round() as i64).collect();
        if c.name == "noise100" {
            assert_eq!(ints, want);
        }
    }
}

#[test]
fn our_pages_keep_the_bound_and_size_of_iotdb_pages() {
    let mut identical = 0;
    for c in cases() {
        let mut ours = Vec::new();
        freq::encode(
            &c.values,
            freq::DEFAULT_BLOCK_SIZE,
            freq::DEFAULT_SNR,
            &mut ours,
        );
        let mut back = Vec::new();
        freq::decode_f64(&ours, c.values.len(), &mut back).unwrap();
        let s_ours = snr_db(&c.values, &back);
        let s_java = snr_db(&c.values, &c.decoded);
        assert!(s_ours >= 40.0, "{}: {s_ours} dB", c.name);
        if ours == c.bytes {
            identical += 1;
        }
        assert!(
            ours.len() <= c.bytes.len() + c.bytes.len() / 10 + 2,
            "{}: {} bytes vs IoTDB {} ({s_ours:.1} vs {s_java:.1} dB)",
            c.name,
            ours.len(),
            c.bytes.len()
        );
    }
    // Same selection, quantisation and bit layout as IoTDB: byte-identical pages.
    assert_eq!(identical, 3);
}
