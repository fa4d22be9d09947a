//! IoTDB's data types, encodings and compressors with their wire numbers and names.

use crate::error::{Error, Result};

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $num:expr, $text:expr;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(missing_docs)]
        pub enum $name { $($variant),* }

        impl $name {
            /// Every variant, in wire-number order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The number used on the wire and in files.
            pub fn id(self) -> u8 {
                match self { $($name::$variant => $num),* }
            }

            /// The variant for a wire number.
            pub fn from_id(id: i64) -> Option<Self> {
                match id { $(n if n == $num as i64 => Some($name::$variant),)* _ => None }
            }

            /// IoTDB's upper-case name (as shown by SHOW statements).
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            /// Parses IoTDB's name, case-insensitively.
            pub fn from_name(name: &str) -> Option<Self> {
                let upper = name.trim().to_ascii_uppercase();
                match upper.as_str() { $($text => Some($name::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

wire_enum!(
    /// A series data type (`TSDataType`).
    TSDataType {
        Boolean = 0, "BOOLEAN";
        Int32 = 1, "INT32";
        Int64 = 2, "INT64";
        Float = 3, "FLOAT";
        Double = 4, "DOUBLE";
        Text = 5, "TEXT";
        Timestamp = 8, "TIMESTAMP";
        Date = 9, "DATE";
        Blob = 10, "BLOB";
        String = 11, "STRING";
    }
);

wire_enum!(
    /// A value encoding (`TSEncoding`).
    TSEncoding {
        Plain = 0, "PLAIN";
        Dictionary = 1, "DICTIONARY";
        Rle = 2, "RLE";
        Diff = 3, "DIFF";
        Ts2Diff = 4, "TS_2DIFF";
        Bitmap = 5, "BITMAP";
        GorillaV1 = 6, "GORILLA_V1";
        Regular = 7, "REGULAR";
        Gorilla = 8, "GORILLA";
        Zigzag = 9, "ZIGZAG";
        Freq = 10, "FREQ";
        Chimp = 11, "CHIMP";
        Sprintz = 12, "SPRINTZ";
        Rlbe = 13, "RLBE";
    }
);

wire_enum!(
    /// A page compressor (`CompressionType`).
    CompressionType {
        Uncompressed = 0, "UNCOMPRESSED";
        Snappy = 1, "SNAPPY";
        Gzip = 2, "GZIP";
        Lzo = 3, "LZO";
        Sdt = 4, "SDT";
        Paa = 5, "PAA";
        Pla = 6, "PLA";
        Lz4 = 7, "LZ4";
        Zstd = 8, "ZSTD";
        Lzma2 = 9, "LZMA2";
    }
);

impl TSDataType {
    /// Parses a data type name, accepting IoTDB's aliases (`LONG`, `INT`, …).
    pub fn parse(name: &str) -> Result<Self> {
        let upper = name.trim().to_ascii_uppercase();
        let alias = match upper.as_str() {
            "BOOL" => Some(TSDataType::Boolean),
            "INT" => Some(TSDataType::Int32),
            "LONG" => Some(TSDataType::Int64),
            _ => None,
        };
        alias
            .or_else(|| Self::from_name(&upper))
            .ok_or_else(|| Error::Semantic(format!("Unsupported datatype: {name}")))
    }

    /// The type physically stored: DATE → INT32, TIMESTAMP → INT64, STRING/BLOB → TEXT.
    pub fn physical(self) -> TSDataType {
        match self {
            TSDataType::Date => TSDataType::Int32,
            TSDataType::Timestamp => TSDataType::Int64,
            TSDataType::String | TSDataType::Blob => TSDataType::Text,
            other => other,
        }
    }

    /// True for types that carry numbers (usable by sum/avg/extreme…).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            TSDataType::Int32 | TSDataType::Int64 | TSDataType::Float | TSDataType::Double
        )
    }

    /// True if clients of IoTDB 1.0 know this type (the six original ones).
    pub fn is_v1(self) -> bool {
        self.id() <= 5
    }

    /// IoTDB's default encoding for a new series of this type (DATE takes INT32's default,
    /// TIMESTAMP INT64's, as IoTDB does).
    pub fn default_encoding(self) -> TSEncoding {
        match self {
            TSDataType::Boolean
            | TSDataType::Int32
            | TSDataType::Int64
            | TSDataType::Date
            | TSDataType::Timestamp => TSEncoding::Rle,
            TSDataType::Float | TSDataType::Double => TSEncoding::Gorilla,
            TSDataType::Text | TSDataType::String | TSDataType::Blob => TSEncoding::Plain,
        }
    }
}

impl TSEncoding {
    /// Whether IoTDB allows this encoding for a series of `data_type` (as IoTDB 1.0.1 decides:
    /// GORILLA_V1 only on FLOAT/DOUBLE, FREQ on the numeric types, REGULAR/DIFF/BITMAP never).
    pub fn supports(self, data_type: TSDataType) -> bool {
        use TSDataType as T;
        use TSEncoding as E;
        match data_type.physical() {
            T::Boolean => matches!(self, E::Plain | E::Rle),
            T::Int32 | T::Int64 => matches!(
                self,
                E::Plain
                    | E::Rle
                    | E::Ts2Diff
                    | E::Gorilla
                    | E::Zigzag
                    | E::Chimp
                    | E::Sprintz
                    | E::Rlbe
                    | E::Freq
            ),
            T::Float | T::Double => matches!(
                self,
                E::Plain
                    | E::Rle
                    | E::Ts2Diff
                    | E::Gorilla
                    | E::GorillaV1
                    | E::Chimp
                    | E::Sprintz
                    | E::Rlbe
                    | E::Freq
            ),
            _ => matches!(self, E::Plain | E::Dictionary),
        }
    }

    /// Checks that the encoding may be used for `data_type`.
    pub fn check(self, data_type: TSDataType) -> Result<()> {
        if self.supports(data_type) {
            Ok(())
        } else {
            Err(Error::Metadata(format!(
                "encoding {} does not support {}",
                self.name(),
                data_type.name()
            )))
        }
    }

    /// Parses an encoding name.
    pub fn parse(name: &str) -> Result<Self> {
        Self::from_name(name)
            .ok_or_else(|| Error::Semantic(format!("Unsupported encoding: {name}")))
    }
}

impl CompressionType {
    /// Parses a compressor name.
    pub fn parse(name: &str) -> Result<Self> {
        Self::from_name(name)
            .ok_or_else(|| Error::Semantic(format!("Unsupported compressor: {name}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_round_trip() {
        for t in TSDataType::ALL {
            assert_eq!(TSDataType::from_id(t.id() as i64), Some(*t));
            assert_eq!(TSDataType::from_name(t.name()), Some(*t));
        }
        assert_eq!(TSEncoding::from_name("ts_2diff"), Some(TSEncoding::Ts2Diff));
        assert_eq!(CompressionType::from_id(7), Some(CompressionType::Lz4));
        assert_eq!(TSDataType::from_id(6), None);
    }

    #[test]
    fn encoding_rules() {
        assert!(!TSEncoding::Ts2Diff.supports(TSDataType::Boolean));
        assert!(TSEncoding::Gorilla.supports(TSDataType::Double));
        assert!(TSEncoding::Dictionary.supports(TSDataType::Text));
        assert!(TSEncoding::GorillaV1.supports(TSDataType::Float));
        assert!(!TSEncoding::GorillaV1.supports(TSDataType::Int32));
        assert!(TSEncoding::Freq.supports(TSDataType::Int64));
        assert!(!TSEncoding::Regular.supports(TSDataType::Int64));
        assert!(TSEncoding::Ts2Diff.check(TSDataType::Boolean).is_err());
    }
}
