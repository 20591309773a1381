"""The app's one piece of logic, in its own module so that the image holds its bytecode."""


def greet(name: str) -> str:
    return f"Hello, {name}!"
