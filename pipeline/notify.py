"""Alerts: every failed task, every release blocked or withheld in part, a run's end and a missed deadline
become a row of audit.pipeline_events and, when a channel is configured, a notice:

- `ALERT_WEBHOOK_URL`: a JSON POST ({"text": ..., "event": ..., "run_id": ...}; Slack, Teams and
  Mattermost incoming webhooks accept the "text" field);
- `ALERT_EMAIL_TO` with `SMTP_HOST` (and `SMTP_PORT`, `SMTP_USER`, `SMTP_PASSWORD`, `SMTP_FROM`,
  `SMTP_STARTTLS=1`): an email.

A notice that cannot be sent is recorded as such (the `notified` column) and never fails the run.
`PipelineNotifier` plugs this into Airflow's callbacks (task and DAG on_failure/on_success)."""

from __future__ import annotations

import json
import logging
import os
import smtplib
import urllib.request
from email.message import EmailMessage

from airflow.sdk import BaseNotifier

from pipeline.runs import record_event, record_run_end

log = logging.getLogger(__name__)

# Exceptions of the quality gate and the release: a task that fails with one of them blocked the release.
BLOCKING_EXCEPTIONS = ("QualityGateFailed", "PublicationBlocked")


def send_notice(subject: str, text: str, payload: dict) -> str | None:
    """Send to every configured channel; returns what happened, for audit.pipeline_events.notified."""
    outcomes = []
    if url := os.environ.get("ALERT_WEBHOOK_URL"):
        try:
            body = json.dumps({"text": f"{subject}\n{text}", **payload}, default=str).encode()
            request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as response:
                outcomes.append(f"webhook {response.status}")
        except Exception as exc:  # noqa: BLE001 - an alert channel down must not fail the night
            outcomes.append(f"webhook failed: {exc}")
    if (to := os.environ.get("ALERT_EMAIL_TO")) and (host := os.environ.get("SMTP_HOST")):
        try:
            message = EmailMessage()
            message["Subject"], message["To"] = subject, to
            message["From"] = os.environ.get("SMTP_FROM", "child-stats-warehouse@localhost")
            message.set_content(text)
            with smtplib.SMTP(host, int(os.environ.get("SMTP_PORT", "25")), timeout=10) as smtp:
                if os.environ.get("SMTP_STARTTLS") == "1":
                    smtp.starttls()
                if os.environ.get("SMTP_USER"):
                    smtp.login(os.environ["SMTP_USER"], os.environ.get("SMTP_PASSWORD", ""))
                smtp.send_message(message)
            outcomes.append(f"email to {to}")
        except Exception as exc:  # noqa: BLE001
            outcomes.append(f"email failed: {exc}")
    return "; ".join(outcomes) or None


def alert(event: str, severity: str, message: str, dag_id: str | None = None, run_id: str | None = None,
          task_id: str | None = None) -> None:
    subject = f"[child-stats] {severity.upper()} {event}: {dag_id or ''} {run_id or ''}".strip()
    notified = send_notice(subject, message, {"event": event, "severity": severity, "dag_id": dag_id,
                                              "run_id": run_id, "task_id": task_id})
    try:
        record_event(event, severity, message, dag_id, run_id, task_id, notified)
    except Exception:  # noqa: BLE001 - the warehouse may be what is down; the log still has it
        log.exception("could not record the %s event of run %s", event, run_id)
    log.warning("%s: %s", subject, message)


class PipelineNotifier(BaseNotifier):
    """Airflow callback: `PipelineNotifier("task_failed")` on tasks, `("run_failed")` / `("run_succeeded")`
    on the DAG."""

    template_fields = ()

    def __init__(self, event: str):
        super().__init__()
        self.event = event

    def render_template_fields(self, context, jinja_env=None) -> None:
        """Nothing to render; and under `airflow dags test` the DAG in a DAG callback's context is a
        SerializedDAG, on which Airflow 3.3's own rendering fails (no get_template_env)."""

    def notify(self, context) -> None:
        dag_run = context.get("dag_run")
        run_id = getattr(dag_run, "run_id", None)
        dag_id = getattr(dag_run, "dag_id", None)
        task = context.get("task_instance") or context.get("ti")
        task_id = getattr(task, "task_id", None) if self.event == "task_failed" else None
        if self.event in ("run_failed", "run_succeeded"):
            state = "success" if self.event == "run_succeeded" else "failed"
            release_id = None
            try:
                release_id = record_run_end(run_id, state, dag_id, getattr(dag_run, "run_type", None),
                                            getattr(dag_run, "triggered_by", None))
            except Exception:  # noqa: BLE001
                log.exception("could not record the end of run %s", run_id)
            if self.event == "run_failed":
                alert("run_failed", "error", f"run {run_id} failed; the previous release stays published",
                      dag_id, run_id)
            else:
                record_event("run_succeeded", "info", f"run {run_id} succeeded; release {release_id}", dag_id, run_id)
            return
        exception = context.get("exception")
        blocked = type(exception).__name__ in BLOCKING_EXCEPTIONS
        event = "release_blocked" if blocked else "task_failed"
        alert(event, "error", f"task {task_id} failed: {exception}", dag_id, run_id, task_id)
