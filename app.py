"""Routes and event handlers only: parse the request, call one chalicelib function, shape the answer."""

from chalice import Chalice

app = Chalice(app_name="credential-connector")


@app.route("/health", methods=["GET"])
def health() -> dict:
    from chalicelib.health import report

    return report()
