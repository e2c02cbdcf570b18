"""Country names for WVS-7 country codes (ISO 3166-1 alpha-3 as WVS writes them, or numeric)."""

from __future__ import annotations

ALPHA3 = {
    "ALB": "Albania", "AND": "Andorra", "ARG": "Argentina", "ARM": "Armenia", "AUS": "Australia",
    "AUT": "Austria", "AZE": "Azerbaijan", "BGD": "Bangladesh", "BGR": "Bulgaria",
    "BIH": "Bosnia and Herzegovina", "BLR": "Belarus", "BOL": "Bolivia", "BRA": "Brazil", "CAN": "Canada",
    "CHE": "Switzerland", "CHL": "Chile", "CHN": "China", "COL": "Colombia", "CYP": "Cyprus",
    "CZE": "Czechia", "DEU": "Germany", "DNK": "Denmark", "ECU": "Ecuador", "EGY": "Egypt", "ESP": "Spain",
    "EST": "Estonia", "ETH": "Ethiopia", "FIN": "Finland", "FRA": "France", "GBR": "Great Britain",
    "GEO": "Georgia", "GRC": "Greece", "GTM": "Guatemala", "HKG": "Hong Kong", "HRV": "Croatia",
    "HUN": "Hungary", "IDN": "Indonesia", "IND": "India", "IRN": "Iran", "IRQ": "Iraq", "ISL": "Iceland", "ITA": "Italy",
    "JOR": "Jordan", "JPN": "Japan", "KAZ": "Kazakhstan", "KEN": "Kenya", "KGZ": "Kyrgyzstan",
    "KOR": "South Korea", "LBN": "Lebanon", "LBY": "Libya", "LTU": "Lithuania", "LVA": "Latvia",
    "MAC": "Macao", "MDV": "Maldives", "MEX": "Mexico", "MKD": "North Macedonia", "MMR": "Myanmar",
    "MNE": "Montenegro", "MNG": "Mongolia", "MOR": "Morocco", "MAR": "Morocco", "MYS": "Malaysia",
    "NGA": "Nigeria", "NIC": "Nicaragua", "NIR": "Northern Ireland", "NLD": "the Netherlands",
    "NOR": "Norway", "NZL": "New Zealand", "PAK": "Pakistan", "PER": "Peru", "PHL": "the Philippines",
    "POL": "Poland", "PRI": "Puerto Rico", "PRT": "Portugal", "ROU": "Romania", "RUS": "Russia",
    "SGP": "Singapore", "SRB": "Serbia", "SVK": "Slovakia", "SVN": "Slovenia", "SWE": "Sweden",
    "THA": "Thailand", "TJK": "Tajikistan", "TUN": "Tunisia", "TUR": "Turkey", "TWN": "Taiwan",
    "UKR": "Ukraine", "URY": "Uruguay", "USA": "the United States", "VEN": "Venezuela", "VNM": "Vietnam",
    "ZWE": "Zimbabwe",
}

NUMERIC = {
    "8": "ALB", "20": "AND", "31": "AZE", "32": "ARG", "36": "AUS", "40": "AUT", "50": "BGD", "51": "ARM",
    "68": "BOL", "70": "BIH", "76": "BRA", "100": "BGR", "104": "MMR", "112": "BLR", "124": "CAN",
    "152": "CHL", "156": "CHN", "158": "TWN", "170": "COL", "191": "HRV", "196": "CYP", "203": "CZE",
    "208": "DNK", "218": "ECU", "231": "ETH", "233": "EST", "246": "FIN", "250": "FRA", "268": "GEO",
    "276": "DEU", "300": "GRC", "320": "GTM", "344": "HKG", "348": "HUN", "352": "ISL", "360": "IDN",
    "364": "IRN", "368": "IRQ", "380": "ITA", "392": "JPN", "398": "KAZ", "400": "JOR", "404": "KEN",
    "410": "KOR", "417": "KGZ", "422": "LBN", "428": "LVA", "434": "LBY", "440": "LTU", "446": "MAC",
    "458": "MYS", "462": "MDV", "484": "MEX", "496": "MNG", "499": "MNE", "504": "MOR", "528": "NLD",
    "554": "NZL", "558": "NIC", "566": "NGA", "578": "NOR", "586": "PAK", "604": "PER", "608": "PHL",
    "616": "POL", "620": "PRT", "630": "PRI", "642": "ROU", "643": "RUS", "688": "SRB", "702": "SGP",
    "703": "SVK", "704": "VNM", "705": "SVN", "716": "ZWE", "724": "ESP", "752": "SWE", "756": "CHE",
    "762": "TJK", "764": "THA", "788": "TUN", "792": "TUR", "804": "UKR", "807": "MKD", "818": "EGY",
    "826": "GBR", "840": "USA", "858": "URY", "862": "VEN", "909": "NIR",
}


def country_name(code: str) -> str:
    """'DEU' or '276' -> 'Germany'; an unknown code is returned as it is (it may already be a name)."""
    key = str(code).strip()
    if key in NUMERIC:
        key = NUMERIC[key]
    return ALPHA3.get(key.upper(), key)
