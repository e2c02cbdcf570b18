"""`valuesim demo`: placeholder until the data commands land (replaced below)."""


def register(sub) -> None:
    p = sub.add_parser("demo", help="run a small end-to-end study on a synthetic population")
    p.set_defaults(func=lambda args: print("valuesim demo: not built yet"))
