"""Numbers held as text in the page state, turned into numbers in the browser."""

import reflex as rx


def as_number(var: rx.Var) -> rx.Var:
    """`Number(text)` in JavaScript. `.to(int)` only re-types a Var: a progress bar fed "40" got a string
    (a prop-type error per row, and Radix drew it half full)."""
    return var._replace(_js_expr=f"Number({var._js_expr})", _var_type=int)


def count_of(count: rx.Var, one: str, many: str) -> rx.Var:
    """"1 image", "3 images": the count with the word that agrees with it."""
    return rx.cond(count == 1, "1 " + one, count.to_string() + " " + many)


def count_of_text(count: rx.Var, one: str, many: str) -> rx.Var:
    """The same for a count held as text ("1", "20")."""
    return rx.cond(count == "1", "1 " + one, count + " " + many)
