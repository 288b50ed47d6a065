"""Every Lambda function imports app.py: importing it must not load the AWS SDK or worker code."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .stages import ROOT, env

HEAVY = (
    "boto3",
    "botocore",
    "chalicelib.delivery.worker",
    "chalicelib.delivery.translation",
    "chalicelib.xapi.statements",
    "chalicelib.awards.rules",
    "chalicelib.awards.evaluate",
)
PROBE = f"import json, sys, app; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"


@pytest.mark.parametrize("stage", [None, "prod"], ids=["default-env", "prod-env"])
def test_importing_app_loads_no_aws_sdk_and_no_worker_code(stage):
    variables = {**os.environ, **(env(stage) if stage else {})}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=variables, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
