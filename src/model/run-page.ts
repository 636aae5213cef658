/**
 * Where a run's page lives under the report directory (`runs/<run id>.html`), shared by the reporter
 * that writes it and the job-COB publisher that links to it from the network (the `log` URL of a
 * run is `<report_url>/runs/<id>.html` when the adapter gave no info_url of its own).
 */
const SAFE_RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** File name of a run's page, or null when the id has characters unsafe in a path. */
export function runFileName(id: string): string | null {
  return SAFE_RUN_ID.test(id) ? `${id}.html` : null;
}

export function runPagePath(id: string): string | null {
  const f = runFileName(id);
  return f === null ? null : `runs/${f}`;
}

/** The public URL of a run's page below `reportUrl` (the URL `report_dir` is served at), or null. */
export function runPageUrl(reportUrl: string, id: string): string | null {
  const path = runPagePath(id);
  if (path === null) return null;
  try {
    return new URL(path, reportUrl.endsWith('/') ? reportUrl : `${reportUrl}/`).href;
  } catch {
    return null;
  }
}

/** The run's final log as plain text beside its page (what the attestation's log sha256 covers). */
export function runLogPath(id: string): string | null {
  return runFileName(id) === null ? null : `runs/${id}.log.txt`;
}

/** The run's signed attestation beside its page (`<run>.intoto.jsonl`, one DSSE envelope a line). */
export function runAttestationPath(id: string): string | null {
  return runFileName(id) === null ? null : `runs/${id}.intoto.jsonl`;
}

/** The public URL of a file below `reportUrl`, or null. */
export function reportFileUrl(reportUrl: string, path: string | null): string | null {
  if (path === null) return null;
  try {
    return new URL(path, reportUrl.endsWith('/') ? reportUrl : `${reportUrl}/`).href;
  } catch {
    return null;
  }
}
