//! GORILLA_V1 against IoTDB 1.0.1's own codec: for the pages in
//! `tests/fixtures/gorilla_v1_iotdb_1.0.1.txt` (written by its Java encoders) our encoder writes
//! the same bytes and our decoder reads the values back exactly.

use tsfile::encoding::gorilla_v1;

fn unhex(h: &str) -> Vec<u8> {
    (0..h.len() / 2)
        .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn java_double(s: &str) -> f64 {
    match s {
        "Infinity" => f64::INFINITY,
        "-Infinity" => f64::NEG_INFINITY,
        _ => s.parse().unwrap(),
    }
}

#[test]
fn same_bytes_and_values_as_iotdb() {
    let text = include_str!("fixtures/gorilla_v1_iotdb_1.0.1.txt");
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 12);
    for case in lines.chunks(3) {
        let name = case[0].strip_prefix("case ").unwrap();
        let values: Vec<&str> = case[1]
            .strip_prefix("values ")
            .unwrap()
            .split(',')
            .collect();
        let bytes = unhex(case[2].strip_prefix("bytes ").unwrap());
        let mut ours = Vec::new();
        if name.starts_with("double") {
            let v: Vec<f64> = values.iter().map(|s| java_double(s)).collect();
            gorilla_v1::encode_f64(&v, &mut ours);
            let mut back = Vec::new();
            gorilla_v1::decode_f64(&bytes, v.len(), &mut back).unwrap();
            assert_eq!(back, v, "{name}");
        } else {
            // Java parsed the decimal text as a float
            let v: Vec<f32> = values.iter().map(|s| java_double(s) as f32).collect();
            gorilla_v1::encode_f32(&v, &mut ours);
            let mut back = Vec::new();
            gorilla_v1::decode_f32(&bytes, v.len(), &mut back).unwrap();
            assert_eq!(back, v, "{name}");
        }
        assert_eq!(ours, bytes, "{name}");
    }
}
