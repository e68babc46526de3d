//! Mapping from Rails time-zone names to IANA time-zone identifiers.
//!
//! Zendesk business-hours schedules report their time zone using the names
//! from Ruby on Rails' `ActiveSupport::TimeZone` (e.g. "Pacific Time (US &
//! Canada)", "London") rather than IANA identifiers, so we translate them
//! with a copy of `ActiveSupport::TimeZone::MAPPING` before handing them to
//! `chrono_tz`.

/// `ActiveSupport::TimeZone::MAPPING` (Rails name -> IANA name), from
/// rails/rails `activesupport/lib/active_support/values/time_zone.rb`.
///
/// Sorted by Rails name (byte order) so [`iana_name_for_rails_zone`] can
/// binary search it; the `table_is_strictly_sorted` test enforces this.
static RAILS_ZONES: &[(&str, &str)] = &[
    ("Abu Dhabi", "Asia/Muscat"),
    ("Adelaide", "Australia/Adelaide"),
    ("Alaska", "America/Juneau"),
    ("Almaty", "Asia/Almaty"),
    ("American Samoa", "Pacific/Pago_Pago"),
    ("Amsterdam", "Europe/Amsterdam"),
    ("Arizona", "America/Phoenix"),
    ("Astana", "Asia/Dhaka"),
    ("Athens", "Europe/Athens"),
    ("Atlantic Time (Canada)", "America/Halifax"),
    ("Auckland", "Pacific/Auckland"),
    ("Azores", "Atlantic/Azores"),
    ("Baghdad", "Asia/Baghdad"),
    ("Baku", "Asia/Baku"),
    ("Bangkok", "Asia/Bangkok"),
    ("Beijing", "Asia/Shanghai"),
    ("Belgrade", "Europe/Belgrade"),
    ("Berlin", "Europe/Berlin"),
    ("Bern", "Europe/Zurich"),
    ("Bogota", "America/Bogota"),
    ("Brasilia", "America/Sao_Paulo"),
    ("Bratislava", "Europe/Bratislava"),
    ("Brisbane", "Australia/Brisbane"),
    ("Brussels", "Europe/Brussels"),
    ("Bucharest", "Europe/Bucharest"),
    ("Budapest", "Europe/Budapest"),
    ("Buenos Aires", "America/Argentina/Buenos_Aires"),
    ("Cairo", "Africa/Cairo"),
    ("Canberra", "Australia/Melbourne"),
    ("Cape Verde Is.", "Atlantic/Cape_Verde"),
    ("Caracas", "America/Caracas"),
    ("Casablanca", "Africa/Casablanca"),
    ("Central America", "America/Guatemala"),
    ("Central Time (US & Canada)", "America/Chicago"),
    ("Chatham Is.", "Pacific/Chatham"),
    ("Chennai", "Asia/Kolkata"),
    ("Chihuahua", "America/Chihuahua"),
    ("Chongqing", "Asia/Chongqing"),
    ("Copenhagen", "Europe/Copenhagen"),
    ("Darwin", "Australia/Darwin"),
    ("Dhaka", "Asia/Dhaka"),
    ("Dublin", "Europe/Dublin"),
    ("Eastern Time (US & Canada)", "America/New_York"),
    ("Edinburgh", "Europe/London"),
    ("Ekaterinburg", "Asia/Yekaterinburg"),
    ("Fiji", "Pacific/Fiji"),
    ("Georgetown", "America/Guyana"),
    // Rails main: was "America/Godthab" before rails/rails#55494.
    ("Greenland", "America/Nuuk"),
    ("Guadalajara", "America/Mexico_City"),
    ("Guam", "Pacific/Guam"),
    ("Hanoi", "Asia/Bangkok"),
    ("Harare", "Africa/Harare"),
    ("Hawaii", "Pacific/Honolulu"),
    ("Helsinki", "Europe/Helsinki"),
    ("Hobart", "Australia/Hobart"),
    ("Hong Kong", "Asia/Hong_Kong"),
    ("Indiana (East)", "America/Indiana/Indianapolis"),
    ("International Date Line West", "Pacific/Midway"),
    ("Irkutsk", "Asia/Irkutsk"),
    ("Islamabad", "Asia/Karachi"),
    ("Istanbul", "Europe/Istanbul"),
    ("Jakarta", "Asia/Jakarta"),
    ("Jerusalem", "Asia/Jerusalem"),
    ("Kabul", "Asia/Kabul"),
    ("Kaliningrad", "Europe/Kaliningrad"),
    ("Kamchatka", "Asia/Kamchatka"),
    ("Karachi", "Asia/Karachi"),
    ("Kathmandu", "Asia/Kathmandu"),
    ("Kolkata", "Asia/Kolkata"),
    ("Krasnoyarsk", "Asia/Krasnoyarsk"),
    ("Kuala Lumpur", "Asia/Kuala_Lumpur"),
    ("Kuwait", "Asia/Kuwait"),
    // Rails main: was "Europe/Kiev" before rails/rails#57266.
    ("Kyiv", "Europe/Kyiv"),
    ("La Paz", "America/La_Paz"),
    ("Lima", "America/Lima"),
    ("Lisbon", "Europe/Lisbon"),
    ("Ljubljana", "Europe/Ljubljana"),
    ("London", "Europe/London"),
    ("Madrid", "Europe/Madrid"),
    ("Magadan", "Asia/Magadan"),
    ("Marshall Is.", "Pacific/Majuro"),
    ("Mazatlan", "America/Mazatlan"),
    ("Melbourne", "Australia/Melbourne"),
    ("Mexico City", "America/Mexico_City"),
    ("Mid-Atlantic", "Atlantic/South_Georgia"),
    ("Midway Island", "Pacific/Midway"),
    ("Minsk", "Europe/Minsk"),
    ("Monrovia", "Africa/Monrovia"),
    ("Monterrey", "America/Monterrey"),
    ("Montevideo", "America/Montevideo"),
    ("Moscow", "Europe/Moscow"),
    ("Mountain Time (US & Canada)", "America/Denver"),
    ("Mumbai", "Asia/Kolkata"),
    ("Muscat", "Asia/Muscat"),
    ("Nairobi", "Africa/Nairobi"),
    ("New Caledonia", "Pacific/Noumea"),
    ("New Delhi", "Asia/Kolkata"),
    ("Newfoundland", "America/St_Johns"),
    ("Novosibirsk", "Asia/Novosibirsk"),
    ("Nuku'alofa", "Pacific/Tongatapu"),
    ("Osaka", "Asia/Tokyo"),
    ("Pacific Time (US & Canada)", "America/Los_Angeles"),
    ("Paris", "Europe/Paris"),
    ("Perth", "Australia/Perth"),
    ("Port Moresby", "Pacific/Port_Moresby"),
    ("Prague", "Europe/Prague"),
    ("Pretoria", "Africa/Johannesburg"),
    ("Puerto Rico", "America/Puerto_Rico"),
    ("Quito", "America/Lima"),
    // Rails main: was "Asia/Rangoon" before rails/rails#57266.
    ("Rangoon", "Asia/Yangon"),
    ("Riga", "Europe/Riga"),
    ("Riyadh", "Asia/Riyadh"),
    ("Rome", "Europe/Rome"),
    ("Samara", "Europe/Samara"),
    ("Samoa", "Pacific/Apia"),
    ("Santiago", "America/Santiago"),
    ("Sapporo", "Asia/Tokyo"),
    ("Sarajevo", "Europe/Sarajevo"),
    ("Saskatchewan", "America/Regina"),
    ("Seoul", "Asia/Seoul"),
    ("Singapore", "Asia/Singapore"),
    ("Skopje", "Europe/Skopje"),
    ("Sofia", "Europe/Sofia"),
    ("Solomon Is.", "Pacific/Guadalcanal"),
    ("Srednekolymsk", "Asia/Srednekolymsk"),
    ("Sri Jayawardenepura", "Asia/Colombo"),
    ("St. Petersburg", "Europe/Moscow"),
    ("Stockholm", "Europe/Stockholm"),
    ("Sydney", "Australia/Sydney"),
    ("Taipei", "Asia/Taipei"),
    ("Tallinn", "Europe/Tallinn"),
    ("Tashkent", "Asia/Tashkent"),
    ("Tbilisi", "Asia/Tbilisi"),
    ("Tehran", "Asia/Tehran"),
    ("Tijuana", "America/Tijuana"),
    ("Tokelau Is.", "Pacific/Fakaofo"),
    ("Tokyo", "Asia/Tokyo"),
    ("UTC", "Etc/UTC"),
    ("Ulaanbaatar", "Asia/Ulaanbaatar"),
    ("Urumqi", "Asia/Urumqi"),
    ("Vienna", "Europe/Vienna"),
    ("Vilnius", "Europe/Vilnius"),
    ("Vladivostok", "Asia/Vladivostok"),
    ("Volgograd", "Europe/Volgograd"),
    ("Warsaw", "Europe/Warsaw"),
    ("Wellington", "Pacific/Auckland"),
    ("West Central Africa", "Africa/Algiers"),
    ("Yakutsk", "Asia/Yakutsk"),
    ("Yerevan", "Asia/Yerevan"),
    ("Zagreb", "Europe/Zagreb"),
    ("Zurich", "Europe/Zurich"),
];

/// Returns the IANA time-zone identifier for a Rails (`ActiveSupport`)
/// time-zone name such as `"Pacific Time (US & Canada)"`.
///
/// The match is exact (case- and whitespace-sensitive). Returns `None` for
/// names that are not in the Rails table.
pub fn iana_name_for_rails_zone(name: &str) -> Option<&'static str> {
    RAILS_ZONES
        .binary_search_by(|&(rails, _)| rails.cmp(name))
        .ok()
        .map(|i| RAILS_ZONES[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_strictly_sorted() {
        for pair in RAILS_ZONES.windows(2) {
            assert!(
                pair[0].0 < pair[1].0,
                "RAILS_ZONES not strictly sorted: {:?} should come before {:?}",
                pair[1].0,
                pair[0].0
            );
        }
    }

    #[test]
    fn every_iana_value_parses_as_chrono_tz() {
        for &(rails, iana) in RAILS_ZONES {
            assert!(
                iana.parse::<chrono_tz::Tz>().is_ok(),
                "{rails:?} maps to {iana:?}, which chrono_tz does not recognise"
            );
        }
    }

    #[test]
    fn every_rails_name_is_found() {
        for &(rails, iana) in RAILS_ZONES {
            assert_eq!(iana_name_for_rails_zone(rails), Some(iana));
        }
    }

    #[test]
    fn known_mappings() {
        assert_eq!(iana_name_for_rails_zone("Pacific Time (US & Canada)"), Some("America/Los_Angeles"));
        assert_eq!(iana_name_for_rails_zone("London"), Some("Europe/London"));
        assert_eq!(iana_name_for_rails_zone("Adelaide"), Some("Australia/Adelaide"));
        assert_eq!(iana_name_for_rails_zone("Chennai"), Some("Asia/Kolkata"));
        assert_eq!(iana_name_for_rails_zone("Kolkata"), Some("Asia/Kolkata"));
    }

    #[test]
    fn unknown_names_are_none() {
        assert_eq!(iana_name_for_rails_zone(""), None);
        assert_eq!(iana_name_for_rails_zone("london"), None);
        assert_eq!(iana_name_for_rails_zone("Europe/London"), None);
        assert_eq!(iana_name_for_rails_zone("Atlantis"), None);
    }
}
