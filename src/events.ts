/**
 * Diagnostics as named events (node:diagnostics_channel). The core publishes;
 * logging, metrics and the per-machine boot timeline subscribe. Publishing to a
 * channel with no subscriber costs almost nothing, so hot paths may publish freely.
 */
import diagnostics_channel from 'node:diagnostics_channel';

export type EventName =
  | 'site.change'          // an entity was created, updated or deleted (audit)
  | 'deploy.highrisk'      // a high-risk warning was accepted
  | 'tftp.transfer.start'
  | 'tftp.transfer.end'
  | 'tftp.request.refused'
  | 'tftp.packet.invalid'
  | 'dhcp.packet.invalid'
  | 'dhcp.decision'
  | 'http.boot'
  | 'content.verify.fail';

const channels = new Map<EventName, diagnostics_channel.Channel>();

function channel(name: EventName): diagnostics_channel.Channel {
  let ch = channels.get(name);
  if (!ch) {
    ch = diagnostics_channel.channel(`pxepoint.${name}`);
    channels.set(name, ch);
  }
  return ch;
}

export function publish(name: EventName, data: Record<string, unknown>): void {
  const ch = channel(name);
  if (ch.hasSubscribers) ch.publish(data);
}

export function subscribe(name: EventName, fn: (data: Record<string, unknown>) => void): () => void {
  const handler = (msg: unknown): void => fn(msg as Record<string, unknown>);
  diagnostics_channel.subscribe(`pxepoint.${name}`, handler);
  return () => diagnostics_channel.unsubscribe(`pxepoint.${name}`, handler);
}
