//! Text helpers below the Atlas: names folded for matching, and region names by INSEE code.

use unicode_normalization::UnicodeNormalization;

/// Lower case, accents and punctuation removed, spaces collapsed: `"Cœur-de-Flandre"` → `"coeur de flandre"`.
///
/// ```
/// use territoires::text::fold;
/// assert_eq!(fold("Cœur de Flandre - Pays de Saint-Omer"), "coeur de flandre pays de saint omer");
/// assert_eq!(fold("ÉTAMPES"), "etampes");
/// ```
#[must_use]
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfkd() {
        match c {
            'œ' | 'Œ' => out.push_str("oe"),
            'æ' | 'Æ' => out.push_str("ae"),
            c if unicode_normalization::char::is_combining_mark(c) => {}
            c if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => {
                if !out.ends_with(' ') && !out.is_empty() {
                    out.push(' ');
                }
            }
        }
    }
    out.trim_end().to_owned()
}

/// Name of a region from its INSEE code (regions as of 2016).
#[must_use]
pub fn region_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "01" => "Guadeloupe",
        "02" => "Martinique",
        "03" => "Guyane",
        "04" => "La Réunion",
        "06" => "Mayotte",
        "11" => "Île-de-France",
        "24" => "Centre-Val de Loire",
        "27" => "Bourgogne-Franche-Comté",
        "28" => "Normandie",
        "32" => "Hauts-de-France",
        "44" => "Grand Est",
        "52" => "Pays de la Loire",
        "53" => "Bretagne",
        "75" => "Nouvelle-Aquitaine",
        "76" => "Occitanie",
        "84" => "Auvergne-Rhône-Alpes",
        "93" => "Provence-Alpes-Côte d'Azur",
        "94" => "Corse",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_accents_and_punctuation() {
        assert_eq!(fold("  Saint-Omer  "), "saint omer");
        assert_eq!(fold("Châtellerault"), "chatellerault");
        assert_eq!(fold("L'Haÿ-les-Roses"), "l hay les roses");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn regions_are_named() {
        assert_eq!(region_name("32"), Some("Hauts-de-France"));
        assert_eq!(region_name("99"), None);
    }
}
