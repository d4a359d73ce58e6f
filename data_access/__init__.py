"""Everything that touches a database: contract, metric layer, engines, caching, demo data."""
