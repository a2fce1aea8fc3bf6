/**
 * Sending status to the site during a run. A status that cannot be sent never
 * fails the task sequence (rule 35: once started it runs to the end); it is
 * logged. Rule 144: failed status messages are not queued for later, and with
 * SMSTSDisableStatusRetry=true the client stops sending after the first failure
 * (and does not retry that one either).
 */
import { isPxeError } from '../errors.js';
import type { StatusReport, StatusResponse } from '../policy/client-api.js';
import type { ClientApi } from './api.js';
import type { RunLog } from './log.js';

export class StatusReporter {
  private stopped = false;
  sent = 0;
  failed = 0;

  constructor(
    private readonly api: Pick<ClientApi, 'status'>,
    private readonly log: RunLog,
    private readonly disableRetry: boolean,
  ) {}

  async send(report: StatusReport): Promise<StatusResponse | null> {
    if (this.stopped) return null;
    try {
      const r = await this.api.status(report, this.disableRetry ? { attempts: 1 } : {});
      this.sent++;
      return r;
    } catch (e) {
      if (!isPxeError(e)) throw e;
      this.failed++;
      this.log.warn(`could not send status "${report.message}" to the site: ${e.message} [${e.code}]; it is not queued (rule 144)`);
      if (this.disableRetry) {
        this.stopped = true;
        this.log.warn('SMSTSDisableStatusRetry=true: no further status is sent in this run (rule 144)');
      }
      return null;
    }
  }
}
