//! Collation tests. Every expectation was measured on MariaDB 10.11 with
//! `STRCMP(x COLLATE c, y COLLATE c)` or `ORDER BY x COLLATE c`.

use super::*;
use mysql_common::constants::ColumnType;

const GENERAL: u16 = 45;
const UNICODE: u16 = 224;
const UNICODE_520: u16 = 246;
const BIN: u16 = 46;
const GENERAL_NOPAD: u16 = 1069;
const UNICODE_NOPAD: u16 = 1248;
const NOPAD_BIN: u16 = 1070;
const COLLATIONS: [u16; 7] = [
    GENERAL,
    UNICODE,
    UNICODE_520,
    BIN,
    GENERAL_NOPAD,
    UNICODE_NOPAD,
    NOPAD_BIN,
];

/// `(a, b, STRCMP under each of COLLATIONS)`.
const MEASURED: &[(&str, &str, [i8; 7])] = &[
    ("`", "^", [1, -1, -1, 1, 1, -1, 1]),
    (" ", "", [0, 0, 0, 0, 1, 1, 1]),
    ("a", "a ", [0, 0, 0, 0, -1, -1, -1]),
    ("a\t", "a", [-1, -1, -1, -1, 1, 1, 1]),
    ("ß", "s", [0, 1, 1, 1, 0, 1, 1]),
    ("ß", "ss", [-1, 0, 0, 1, -1, 0, 1]),
    ("😀", "😁", [0, 0, -1, -1, 0, 0, -1]),
    ("æ", "ae", [1, 1, 0, 1, 1, 1, 1]),
    ("a\u{1}", "a", [-1, 0, 0, -1, 1, 0, 1]),
    ("á", "a\u{301}", [-1, 0, 0, 1, -1, 0, 1]),
    ("a", "á", [0, 0, 0, -1, 0, 0, -1]),
    ("Å", "a", [0, 0, 0, 1, 0, 0, 1]),
    ("ø", "o", [1, 1, 0, 1, 1, 1, 1]),
    ("Đ", "d", [1, 1, 0, 1, 1, 1, 1]),
    ("ﬁ", "fi", [1, 0, 0, 1, 1, 0, 1]),
    ("Ａ", "a", [1, 0, 0, 1, 1, 0, 1]),
    ("ı", "i", [0, 1, 1, 1, 0, 1, 1]),
    ("İ", "i", [0, 0, 0, 1, 0, 0, 1]),
    ("ä", "z", [-1, -1, -1, 1, -1, -1, 1]),
    ("ǅ", "dž", [1, 0, 0, 1, 1, 0, 1]),
    ("Ω", "ω", [0, 0, 0, -1, 0, 0, -1]),
    ("a ", "a\t", [1, 1, 1, 1, 1, 1, 1]),
    ("a", "a\0", [1, 0, 0, 1, -1, 0, -1]),
    ("ŉ", "n", [1, 1, 1, 1, 1, 1, 1]),
    ("1", "a", [-1, -1, -1, -1, -1, -1, -1]),
    ("ÿ", "y", [0, 0, 0, 1, 0, 0, 1]),
    ("ŀ", "l", [1, 1, 0, 1, 1, 1, 1]),
    ("ℌ", "h", [1, 0, 0, 1, 1, 0, 1]),
    ("A", "a", [0, 0, 0, -1, 0, 0, -1]),
    ("a", "B", [-1, -1, -1, 1, -1, -1, 1]),
    ("Ä", "ae", [-1, -1, -1, 1, -1, -1, 1]),
    ("ö", "o", [0, 0, 0, 1, 0, 0, 1]),
    ("ü", "y", [-1, -1, -1, 1, -1, -1, 1]),
    ("å", "z", [-1, -1, -1, 1, -1, -1, 1]),
    ("þ", "th", [1, 1, 1, 1, 1, 1, 1]),
    ("ð", "d", [1, 1, 0, 1, 1, 1, 1]),
    ("œ", "oe", [1, 0, 0, 1, 1, 0, 1]),
    ("ŋ", "n", [1, 1, 1, 1, 1, 1, 1]),
    ("Ł", "l", [1, 1, 0, 1, 1, 1, 1]),
    ("ǲ", "dz", [1, 0, 0, 1, 1, 0, 1]),
    ("\u{a0}", "", [1, 0, 0, 1, 1, 1, 1]),
    ("a\u{a0}", "a", [1, 0, 0, 1, 1, 1, 1]),
    ("-", "_", [-1, 1, 1, -1, -1, 1, -1]),
    ("\u{301}", "", [1, 0, 0, 1, 1, 0, 1]),
    ("a\u{301}", "a", [1, 0, 0, 1, 1, 0, 1]),
    ("€", "e", [1, -1, -1, 1, 1, -1, 1]),
    ("²", "2", [1, 0, 0, 1, 1, 0, 1]),
    ("ȁ", "a", [0, 0, 0, 1, 0, 0, 1]),
];

/// `(a, b, STRCMP under general_ci, unicode_ci, unicode_520_ci)`.
const MEASURED_UCA: &[(&str, &str, [i8; 3])] = &[
    ("Æ", "ae", [1, 1, 0]),
    ("Ð", "d", [1, 1, 0]),
    ("ẞ", "ss", [1, 1, 0]),
    ("ħ", "h", [1, 1, 0]),
    ("ŧ", "t", [1, 1, 1]),
    ("Ø", "o", [1, 1, 0]),
    ("ĸ", "q", [1, 1, 1]),
    ("ǿ", "o", [1, 1, 0]),
    ("ǽ", "ae", [1, 1, 0]),
    ("Œ", "oe", [1, 0, 0]),
    ("ﬀ", "ff", [1, 0, 0]),
    ("Ǆ", "DŽ", [1, 0, 0]),
    ("ĳ", "ij", [1, 0, 0]),
    ("þ", "z", [1, 1, 1]),
    ("ø", "p", [1, -1, -1]),
    ("æ", "b", [1, -1, -1]),
    ("ß", "st", [-1, -1, -1]),
    ("a-b", "ab", [-1, -1, -1]),
    ("a_b", "a b", [1, 1, 1]),
    ("١", "1", [1, 0, 0]),
    ("٣", "3", [1, 0, 0]),
    ("½", "1/2", [1, 1, 1]),
    ("ª", "a", [1, 0, 0]),
    ("ℓ", "l", [1, 0, 0]),
    ("µ", "μ", [0, 0, 0]),
    ("ſ", "s", [0, 0, 0]),
    ("\u{2126}", "\u{3a9}", [1, 0, 0]),
    ("\u{212b}", "\u{c5}", [1, 0, 0]),
    ("\u{1f71}", "\u{3b1}", [1, 0, 0]),
    ("\u{1f30}", "\u{399}", [0, 0, 0]),
    ("ǻ", "A", [0, 0, 0]),
    ("й", "и", [1, 1, 1]),
    ("ё", "Е", [0, 0, 0]),
    ("ȿ", "\u{2c7e}", [-1, -1, 0]),
    ("\u{ad}", "", [1, 1, 1]),
    ("\u{200b}", "", [1, 0, 0]),
    ("a\u{200b}b", "ab", [1, 0, 0]),
    ("\u{2060}", "", [1, 0, 0]),
    ("\u{fe0f}", "", [1, 0, 0]),
    ("가", "각", [-1, -1, -1]),
    ("가", "나", [-1, -1, -1]),
    ("€", "$", [1, 1, 1]),
    ("¢", "$", [1, -1, -1]),
    ("«", "!", [1, 1, 1]),
    ("¿", "!", [1, 1, 1]),
    ("©", "@", [1, -1, -1]),
    ("°", "%", [1, 1, 1]),
    ("§", "&", [1, -1, -1]),
    ("ς", "σ", [0, 0, 0]),
    ("ǰ", "j", [0, 0, 0]),
    ("ŉ", "n", [1, 1, 1]),
    ("ı", "i", [0, 1, 1]),
];

fn strcmp(id: u16, a: &str, b: &str) -> i8 {
    match Collation::from_id(id).compare(a.as_bytes(), b.as_bytes()) {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

#[test]
fn pairs_compare_like_mariadb() {
    let mut wrong = Vec::new();
    for (a, b, expected) in MEASURED {
        for (id, want) in COLLATIONS.iter().zip(expected) {
            if strcmp(*id, a, b) != *want || strcmp(*id, b, a) != -*want {
                wrong.push(format!("{a:?} vs {b:?} under {id}: want {want}"));
            }
        }
    }
    for (a, b, expected) in MEASURED_UCA {
        for (id, want) in [GENERAL, UNICODE, UNICODE_520].iter().zip(expected) {
            if strcmp(*id, a, b) != *want || strcmp(*id, b, a) != -*want {
                wrong.push(format!("{a:?} vs {b:?} under {id}: want {want}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Sorts `chars` under `id`; equal strings keep their input order, as with `ORDER BY s, id`.
fn sorted(id: u16, chars: &str) -> String {
    let collation = Collation::from_id(id);
    let mut items: Vec<(TextKey, char)> = chars
        .chars()
        .map(|c| (collation.key(c.to_string().as_bytes()), c))
        .collect();
    items.sort_by(|a, b| a.0.cmp(&b.0));
    items.into_iter().map(|(_, c)| c).collect()
}

#[test]
fn printable_ascii_orders_like_mariadb() {
    let ascii: String = (0x20u8..0x7f).map(char::from).collect();
    let letters = "AaBbCcDdEeFfGgHhIiJjKkLlMmNnOoPpQqRrSsTtUuVvWwXxYyZz";
    assert_eq!(
        sorted(GENERAL, &ascii),
        format!(" !\"#$%&'()*+,-./0123456789:;<=>?@{letters}[\\]^_`{{|}}~")
    );
    let uca = format!(" `^_-,;:!?.'\"()[]{{}}@*/\\&#%+<=>|~$0123456789{letters}");
    assert_eq!(sorted(UNICODE, &ascii), uca);
    assert_eq!(sorted(UNICODE_520, &ascii), uca);
    assert_eq!(sorted(BIN, &ascii), ascii);
    assert_eq!(sorted(8, &ascii), sorted(GENERAL, &ascii));
}

#[test]
fn latin1_punctuation_orders_like_unicode_ci() {
    // A sample of ASCII, Latin-1 and General Punctuation symbols in MariaDB's order.
    let want = "`´^¯_-–—,;:!¡?¿.…·'‘’\"“”«»()[]{}§¶©®@*/\\&#%‰†‡•°+±÷×<=>¬|¦~¤¢$£¥€";
    let mut shuffled: Vec<char> = want.chars().collect();
    shuffled.reverse();
    let shuffled: String = shuffled.into_iter().collect();
    assert_eq!(sorted(UNICODE, &shuffled), want);
}

#[test]
fn swedish_letters_follow_z() {
    let swedish = Collation::from_id(8);
    assert_eq!(swedish.compare("å".as_bytes(), b"z"), Ordering::Greater);
    assert_eq!(
        swedish.compare("Ä".as_bytes(), "Æ".as_bytes()),
        Ordering::Equal
    );
    assert_eq!(
        swedish.compare("ö".as_bytes(), "ä".as_bytes()),
        Ordering::Greater
    );
    assert_eq!(swedish.compare("ü".as_bytes(), b"Y"), Ordering::Equal);
    assert_eq!(swedish.compare("é".as_bytes(), b"E"), Ordering::Equal);
    // latin1 bytes (a latin1 connection) decode the same way.
    assert_eq!(swedish.compare(&[0xE5], "Å".as_bytes()), Ordering::Equal);
}

#[test]
fn case_sensitive_collations_break_ties_by_case() {
    let cs = Collation::from_id(49);
    assert!(cs.case_sensitive);
    assert_eq!(cs.compare(b"A", b"a"), Ordering::Less);
    assert_eq!(cs.compare(b"a", b"B"), Ordering::Less);
    assert_eq!(cs.compare(b"a ", b"a"), Ordering::Equal);
}

fn column(id: u16, flags: ColumnFlags) -> Column {
    Column::new(ColumnType::MYSQL_TYPE_VAR_STRING)
        .with_character_set(id)
        .with_flags(flags)
}

#[test]
fn collation_from_column_metadata() {
    let ci = Collation::of(&column(33, ColumnFlags::empty()));
    assert_eq!(ci.family, Family::General);
    assert!(ci.pad_space);
    // A utf8mb4_bin column reaches the client as the connection's id plus the BINARY flag.
    let bin = Collation::of(&column(33, ColumnFlags::BINARY_FLAG));
    assert_eq!(bin.family, Family::Bin);
    assert!(bin.pad_space);
    let varbinary = Collation::of(&column(63, ColumnFlags::BINARY_FLAG));
    assert_eq!(varbinary.family, Family::Binary);
    assert!(!varbinary.pad_space);
    assert_eq!(Collation::from_id(255).family, Family::Uca520);
    assert!(!Collation::from_id(255).pad_space);
    assert!(Collation::from_id(278).case_sensitive);
    assert_eq!(Collation::from_id(9999).family, Family::General);
}

#[test]
fn binary_keeps_trailing_spaces_and_nuls() {
    let binary = Collation::from_id(63);
    assert_eq!(binary.compare(b"a", b"a "), Ordering::Less);
    assert_eq!(binary.compare(b"a\0", b"a"), Ordering::Greater);
    assert_eq!(binary.compare(b"A", b"a"), Ordering::Less);
}

#[test]
fn invalid_utf8_falls_back_to_latin1() {
    let general = Collation::from_id(GENERAL);
    // 0xE9 is latin1 'é'.
    assert_eq!(general.compare(&[b'c', 0xE9], b"CE"), Ordering::Equal);
}

/// 40 random strings in MariaDB 10.11's `ORDER BY s COLLATE c` order (no ties), per collation.
const SERVER_ORDER: &[(u16, &[&str])] = &[
    (
        45,
        &[
            "\"2#UB",
            "$|\tk1",
            "%\u{452}f\"\u{a7}",
            "&w~s1",
            ")\u{e7}",
            "*C7\u{e7}",
            "/\u{111}",
            "0X",
            "96G\u{a7}",
            "<h",
            "@d!",
            "@|>",
            "AbgZ\t",
            "A^B#",
            "\u{e9}\u{ac00}wJ",
            "fb",
            "\u{130}",
            "\u{130}C",
            "\u{131}u\u{131}D",
            "I\u{456}6",
            "o",
            "\u{f6}-s",
            "o\u{457}",
            "o\u{436}",
            "p",
            "r,H7",
            "rQ&\\",
            "s\u{453}&W",
            "T,=Ns",
            "z",
            "z\u{a2}",
            "\u{a2}R?Z",
            "\u{a9}7n",
            "\u{bd}\u{b0}",
            "\u{f8}X\u{b0}",
            "\u{3a3}&9",
            "\u{3a3}\u{1f600}U,",
            "\u{457}>^",
            "\u{430}\u{435}/",
            "\u{401}A@Y",
        ],
    ),
    (
        224,
        &[
            "\"2#UB",
            ")\u{e7}",
            "\u{a9}7n",
            "@|>",
            "@d!",
            "*C7\u{e7}",
            "/\u{111}",
            "&w~s1",
            "%\u{452}f\"\u{a7}",
            "<h",
            "\u{a2}R?Z",
            "$|\tk1",
            "0X",
            "\u{bd}\u{b0}",
            "96G\u{a7}",
            "A^B#",
            "AbgZ\t",
            "\u{e9}\u{ac00}wJ",
            "fb",
            "\u{130}",
            "\u{130}C",
            "I\u{456}6",
            "\u{131}u\u{131}D",
            "o",
            "\u{f6}-s",
            "o\u{436}",
            "o\u{457}",
            "\u{f8}X\u{b0}",
            "p",
            "r,H7",
            "rQ&\\",
            "s\u{453}&W",
            "T,=Ns",
            "z",
            "z\u{a2}",
            "\u{3a3}&9",
            "\u{3a3}\u{1f600}U,",
            "\u{430}\u{435}/",
            "\u{401}A@Y",
            "\u{457}>^",
        ],
    ),
    (
        246,
        &[
            "\"2#UB",
            ")\u{e7}",
            "\u{a9}7n",
            "@|>",
            "@d!",
            "*C7\u{e7}",
            "/\u{111}",
            "&w~s1",
            "%\u{452}f\"\u{a7}",
            "<h",
            "\u{a2}R?Z",
            "$|\tk1",
            "0X",
            "\u{bd}\u{b0}",
            "96G\u{a7}",
            "A^B#",
            "AbgZ\t",
            "\u{e9}\u{ac00}wJ",
            "fb",
            "\u{130}",
            "\u{130}C",
            "I\u{456}6",
            "\u{131}u\u{131}D",
            "o",
            "\u{f6}-s",
            "\u{f8}X\u{b0}",
            "o\u{436}",
            "o\u{457}",
            "p",
            "r,H7",
            "rQ&\\",
            "s\u{453}&W",
            "T,=Ns",
            "z",
            "z\u{a2}",
            "\u{3a3}&9",
            "\u{3a3}\u{1f600}U,",
            "\u{430}\u{435}/",
            "\u{401}A@Y",
            "\u{457}>^",
        ],
    ),
];

#[test]
fn random_strings_sort_like_mariadb() {
    for (id, want) in SERVER_ORDER {
        let collation = Collation::from_id(*id);
        let mut got: Vec<&str> = want.to_vec();
        got.sort_by(|a, b| collation.compare(b.as_bytes(), a.as_bytes()));
        got.sort_by(|a, b| collation.compare(a.as_bytes(), b.as_bytes()));
        assert_eq!(&got, want, "collation {id}");
    }
}

/// The `Weights` key `key` would make without its ASCII shortcut (one `general_weight` per
/// character).
fn general_weights_key(collation: Collation, text: &str) -> TextKey {
    TextKey::Weights {
        primary: text
            .chars()
            .map(|c| general_weight(c, collation.family == Family::Swedish))
            .collect(),
        tiebreak: if collation.case_sensitive {
            text.chars().map(u32::from).collect()
        } else {
            Vec::new()
        },
        space: collation.pad_space.then_some(u32::from(b' ')),
    }
}

#[test]
fn ascii_keys_order_exactly_like_general_weights() {
    let samples = [
        "",
        " ",
        "a",
        "A",
        "a ",
        "a\t",
        "ab",
        "aB",
        "Ab",
        "abc",
        "ab ",
        "ab  c",
        "z",
        "Z",
        "_",
        "[",
        "`",
        "~",
        "0",
        "9",
        "a0",
        "sysbench-12",
        "SYSBENCH-12 ",
        "\u{7f}",
    ];
    for id in [GENERAL, GENERAL_NOPAD, 8, 49] {
        let collation = Collation::from_id(id);
        for a in samples {
            let folded = collation.key(a.as_bytes());
            assert!(matches!(folded, TextKey::Folded { .. }), "{a:?} under {id}");
            for b in samples {
                let want =
                    general_weights_key(collation, a).cmp(&general_weights_key(collation, b));
                let b_folded = collation.key(b.as_bytes());
                assert_eq!(folded.cmp(&b_folded), want, "{a:?} vs {b:?} under {id}");
                // Against a `Weights` key (as from a non-ASCII string of the same column),
                // both ways round.
                let b_weights = general_weights_key(collation, b);
                assert_eq!(folded.cmp(&b_weights), want, "{a:?} vs W{b:?} under {id}");
                assert_eq!(
                    b_weights.cmp(&folded),
                    want.reverse(),
                    "W{b:?} vs {a:?} under {id}"
                );
            }
        }
    }
}

#[test]
fn ascii_and_accented_strings_of_one_column_compare() {
    let general = Collation::from_id(GENERAL);
    assert_eq!(general.compare(b"abc", "ÁBC".as_bytes()), Ordering::Equal);
    assert_eq!(general.compare(b"a", "á  ".as_bytes()), Ordering::Equal);
    assert_eq!(general.compare(b"z", "é".as_bytes()), Ordering::Greater);
    assert_eq!(general.compare("é".as_bytes(), b"z"), Ordering::Less);
    let nopad = Collation::from_id(GENERAL_NOPAD);
    assert_eq!(nopad.compare(b"a", "á ".as_bytes()), Ordering::Less);
    let cs = Collation::from_id(49);
    assert_eq!(cs.compare(b"A", "a".as_bytes()), Ordering::Less);
}
