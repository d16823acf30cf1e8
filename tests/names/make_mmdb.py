# Builds the MMDB files tests/names.rs and src/names/mmdb.rs read, with the
# PyPI packages mmdb-writer and netaddr:
#   python3 -m venv /tmp/v && /tmp/v/bin/pip install mmdb-writer netaddr
#   /tmp/v/bin/python tests/names/make_mmdb.py
# The networks are the table ASN and COUNTRY below; tests/names.rs holds the
# same table for its reference. Broad networks first: a later, narrower one
# wins inside it (longest prefix).
import os
from mmdb_writer import MMDBWriter
from netaddr import IPSet

HERE = os.path.dirname(os.path.abspath(__file__))

ASN = [
    ("0.0.0.0/2", 64500, "LOW-NET"),
    ("64.0.0.0/2", 64501, "MID-NET"),
    ("128.0.0.0/1", 64502, "HIGH-NET"),
    ("52.216.0.0/15", 16509, "AMAZON-02"),
    ("2600:1f00::/24", 16509, "AMAZON-02"),
]
COUNTRY = [
    ("0.0.0.0/1", "DE"),
    ("128.0.0.0/1", "US"),
    ("52.0.0.0/8", "IE"),
]

asn = MMDBWriter(ip_version=6, database_type="GeoLite2-ASN", ipv4_compatible=True)
for net, number, org in ASN:
    asn.insert_network(IPSet([net]), {"autonomous_system_number": number, "autonomous_system_organization": org})
asn.to_db_file(os.path.join(HERE, "asn.mmdb"))

country = MMDBWriter(ip_version=6, database_type="GeoLite2-Country", ipv4_compatible=True)
for net, iso in COUNTRY:
    country.insert_network(IPSet([net]), {"country": {"iso_code": iso, "names": {"en": iso}}})
country.to_db_file(os.path.join(HERE, "country.mmdb"))

lite = MMDBWriter(ip_version=6, database_type="ipinfo lite", ipv4_compatible=True)
lite.insert_network(IPSet(["8.8.8.0/24"]), {"asn": "AS15169", "as_name": "Google LLC", "country_code": "US"})
lite.to_db_file(os.path.join(HERE, "ipinfo-lite.mmdb"))
