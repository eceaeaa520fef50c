//! The demo county's places and figures: Jiang County (绛县), 10 townships, 133 villages, one
//! collective each, and the published 2021 income figures reproduced exactly.

use entity::Money;

use crate::stats::TIER_HIGH;

pub const PROVINCE: (&str, &str) = ("140000000000", "山西省");
pub const CITY: (&str, &str) = ("140800000000", "运城市");
pub const COUNTY: (&str, &str) = ("140826000000", "绛县");

/// The townships with their number of villages (133 in all).
pub const TOWNSHIPS: [(&str, &str, usize); 10] = [
    ("140826100000", "古绛镇", 18),
    ("140826101000", "横水镇", 16),
    ("140826102000", "陈村镇", 14),
    ("140826103000", "卫庄镇", 15),
    ("140826104000", "么里镇", 13),
    ("140826105000", "南樊镇", 14),
    ("140826106000", "安峪镇", 12),
    ("140826107000", "大交镇", 12),
    ("140826200000", "郝庄乡", 10),
    ("140826201000", "冷口乡", 9),
];

/// 2021 collective income of the county, in fen: 2327.65万元.
pub const TOTAL_2021: Money = Money::from_fen(2_327_650_000);
/// Villages earning less than 100,000 in 2021 (133 − 113).
pub const BELOW_100K_2021: usize = 20;

/// Villages the demo's assets and stories refer to, placed first in their townships.
const NAMED: [&str; 5] = ["北庄", "南庄", "郭家庄", "卓子沟", "南永青"];
const PREFIXES: [&str; 24] = [
    "东", "西", "上", "下", "前", "后", "大", "小", "新", "柳", "杨", "槐", "枣", "杏", "石", "沙",
    "白", "红", "马", "王", "李", "张", "冯", "范",
];
const SUFFIXES: [&str; 8] = ["庄", "沟", "坡", "堡", "峪", "岭", "营", "店"];
const SURNAMES: [&str; 16] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "郭", "卫", "薛", "冯", "范", "贾", "董", "韩", "程",
];
const GIVEN: [&str; 16] = [
    "建国", "志强", "海军", "红梅", "国庆", "春生", "秀英", "卫东", "小平", "丽娟", "文斌", "永红",
    "保平", "俊峰", "玉兰", "立新",
];

pub struct Village {
    pub code: String,
    pub name: String,
    pub township: usize,
    pub legal_rep_name: String,
    pub legal_rep_mobile: String,
    pub member_households: i32,
    pub income_2021: Money,
}

/// A small deterministic generator, so the demo is the same on every machine.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

fn village_names() -> Vec<String> {
    let mut names: Vec<String> = NAMED.iter().map(|n| format!("{n}村")).collect();
    'outer: for suffix in SUFFIXES {
        for prefix in PREFIXES {
            let name = format!("{prefix}{suffix}村");
            if !names.contains(&name) {
                names.push(name);
            }
            if names.len() == 133 {
                break 'outer;
            }
        }
    }
    names
}

/// Incomes in fen: 20 between 50,000 and 100,000, the other 113 at or above 100,000, summing
/// to exactly `TOTAL_2021`; whole hundreds of yuan, as the county reports them.
fn incomes_2021(rng: &mut Lcg) -> Vec<Money> {
    const HUNDRED_YUAN: i64 = 10_000;
    let below = |i: usize| i % 6 == 2 && i / 6 < BELOW_100K_2021;
    let mut fen = vec![0i64; 133];
    for (i, value) in fen.iter_mut().enumerate() {
        if below(i) {
            *value = (520 + rng.next(470) as i64) * HUNDRED_YUAN;
        }
    }
    // The rest share what remains above 100,000 each, in random proportions.
    let high: Vec<usize> = (0..133).filter(|i| !below(*i)).collect();
    let remaining = TOTAL_2021.fen() - fen.iter().sum::<i64>();
    let excess = remaining - high.len() as i64 * TIER_HIGH.fen();
    let weights: Vec<i64> = high.iter().map(|_| 100 + rng.next(200) as i64).collect();
    let weight_sum: i64 = weights.iter().sum();
    for (i, weight) in high.iter().zip(&weights) {
        fen[*i] = TIER_HIGH.fen() + excess * weight / weight_sum / HUNDRED_YUAN * HUNDRED_YUAN;
    }
    // Rounding down left a remainder: the last village takes it, so the total is exact.
    let last = high[high.len() - 1];
    fen[last] += TOTAL_2021.fen() - fen.iter().sum::<i64>();
    fen.into_iter().map(Money::from_fen).collect()
}

pub fn villages() -> Vec<Village> {
    let names = village_names();
    let mut pool = names[NAMED.len()..].iter();
    let mut rng = Lcg(20_211_231);
    let incomes = incomes_2021(&mut rng);
    let mut villages = Vec::with_capacity(133);
    for (t, (township_code, _, count)) in TOWNSHIPS.iter().enumerate() {
        for n in 0..*count {
            // The named villages go one to a township, first in their township.
            let name = match NAMED.get(t) {
                Some(named) if n == 0 => format!("{named}村"),
                _ => pool.next().cloned().unwrap_or_default(),
            };
            let number = villages.len();
            villages.push(Village {
                code: format!("{}{:03}", &township_code[..9], 201 + n),
                name,
                township: t,
                legal_rep_name: format!(
                    "{}{}",
                    SURNAMES[rng.next(16) as usize],
                    GIVEN[rng.next(16) as usize]
                ),
                legal_rep_mobile: format!("139{:08}", 35_000_000 + number * 7),
                member_households: 80 + rng.next(520) as i32,
                income_2021: incomes[number],
            });
        }
    }
    villages
}

/// GB 11714 organization code (9 characters, the last a check character) for a village.
pub fn organization_code(village_code: &str) -> String {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let body = format!("{}{}", &village_code[6..12], "01");
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        c => char::from_digit(c, 10).unwrap_or('0'),
    };
    format!("{body}{check}")
}

/// `N2` (agriculture authority, village collective) + county code + organization code + check.
pub fn uscc(village_code: &str) -> String {
    let body = format!("N2{}{}", &COUNTY.0[..6], organization_code(village_code));
    let check = crate::domain::Uscc::check_character(&body).unwrap_or('0');
    format!("{body}{check}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Uscc;
    use crate::stats::income_figures;

    #[test]
    fn the_published_2021_figures_come_out_exactly() {
        let villages = villages();
        assert_eq!(villages.len(), 133);
        let incomes: Vec<Money> = villages.iter().map(|v| v.income_2021).collect();
        let f = income_figures(&incomes);
        assert_eq!(f.total.to_string(), "23276500.00");
        assert_eq!(f.count_at_least_50000, 133);
        assert_eq!(f.share_at_least_50000.to_string(), "100.00");
        assert_eq!(f.count_at_least_100000, 113);
        assert_eq!(f.share_at_least_100000.to_string(), "84.96");
    }

    #[test]
    fn villages_are_unique_and_valid() {
        let villages = villages();
        let mut codes: Vec<&str> = villages.iter().map(|v| v.code.as_str()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), 133);
        let mut names: Vec<&str> = villages.iter().map(|v| v.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 133);
        for v in &villages {
            let uscc = uscc(&v.code);
            assert!(uscc.starts_with("N2140826"), "{uscc}");
            assert!(Uscc::parse(&uscc).is_ok(), "{uscc}");
            assert!(crate::domain::Mobile::parse(&v.legal_rep_mobile).is_ok());
            assert!(crate::domain::RegionCode::parse(&v.code).is_ok());
        }
        assert_eq!(villages[0].name, "北庄村");
        assert_eq!(villages.iter().filter(|v| v.name == "南永青村").count(), 1);
    }
}
