/**
 * The site service: every change an administrator makes, from the admin API or the
 * CLI, goes through here. Each change is validated (schemas.ts), checked
 * (entities.ts, deploy/ wizard rules), written in one transaction together with
 * its audit message, and published as a `site.change` event.
 */
import { createHash, randomBytes } from 'node:crypto';
import { invalid, notFound, PxeError } from '../errors.js';
import { publish } from '../events.js';
import { runDeployWizard, type WizardInput } from '../deploy/wizard.js';
import { findInvalidReferences, type ReferenceProblem } from '../deploy/references.js';
import { settingsFromTemplate, templateSettingsFrom } from '../deploy/templates.js';
import { mergeSettings, defaultDeploymentSettings, type DeepPartial } from '../deploy/defaults.js';
import { validateVerificationSettings } from '../deploy/high-risk.js';
import { collectionMembers } from '../site/membership.js';
import type {
  ApiToken, BootImage, Deployment, DeploymentSettings, DeploymentTemplate, Device, Package, SiteSettings, StatusMessage,
} from '../site/model.js';
import type { IdKind, SiteRepository, StatusMessageQuery } from '../site/repository.js';
import { HANDLERS, type EntityByKind } from './entities.js';
import { distributeForDeployment } from '../content/distribution.js';
import * as S from './schemas.js';
import { validateInput } from './validate.js';

export interface Actor {
  /** Token name, "cli:<user>", "sample-site"… */
  name: string;
  component: string;
}

export interface DeploymentOutcome {
  deployment: Deployment;
  warnings: string[];
}

const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export class SiteService {
  constructor(
    readonly repo: SiteRepository,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  private now(): string {
    return this.clock().toISOString();
  }

  /** "PXP0001A": site code + 5 hex digits; deployments start at 0x20000 like advertisements. */
  private async newId(tx: SiteRepository, kind: IdKind): Promise<string> {
    const n = await tx.nextSequence(kind);
    if (kind === 'device') return String(16777216 + n);
    const { siteCode } = await tx.getSettings();
    const base = kind === 'deployment' ? 0x20000 : 0;
    return siteCode + (base + n).toString(16).toUpperCase().padStart(5, '0');
  }

  private async audit(tx: SiteRepository, actor: Actor, text: string, data: Record<string, unknown>, extra: Partial<StatusMessage> = {}): Promise<void> {
    await tx.statusMessages.append({
      time: this.now(), kind: 'audit', severity: 'info', component: actor.component, messageId: 0, actor: actor.name,
      text, deviceId: null, deploymentId: null, data, ...extra,
    });
    publish('site.change', { actor: actor.name, text, ...data });
  }

  // --- plain entities ---------------------------------------------------------

  async list<K extends S.PlainKind>(kind: K): Promise<EntityByKind[K][]> {
    return (await HANDLERS[kind].store(this.repo).list()) as EntityByKind[K][];
  }

  async get<K extends S.PlainKind>(kind: K, id: string): Promise<EntityByKind[K]> {
    const h = HANDLERS[kind];
    const e = await h.store(this.repo).get(id);
    if (!e) throw notFound(h.noun, id);
    return e as EntityByKind[K];
  }

  async create<K extends S.PlainKind>(kind: K, body: unknown, actor: Actor): Promise<EntityByKind[K]> {
    const input = validateInput<Record<string, unknown>>(S.ENTITY_SCHEMAS[kind].create, body);
    const h = HANDLERS[kind];
    return this.repo.transaction(async (tx) => {
      const entity = h.build(input, await this.newId(tx, h.idKind), this.now());
      await h.check(entity, tx);
      await h.store(tx).insert(entity);
      await this.audit(tx, actor, `created ${h.noun} ${entity.id}`, { action: 'create', entity: kind, id: entity.id });
      return entity as EntityByKind[K];
    });
  }

  async update<K extends S.PlainKind>(kind: K, id: string, body: unknown, actor: Actor): Promise<EntityByKind[K]> {
    const patch = validateInput<Record<string, unknown>>(S.ENTITY_SCHEMAS[kind].update, body);
    const h = HANDLERS[kind];
    return this.repo.transaction(async (tx) => {
      const existing = await h.store(tx).get(id);
      if (!existing) throw notFound(h.noun, id);
      const entity = h.merge(existing, patch, this.now());
      await h.check(entity, tx);
      await h.store(tx).update(entity);
      await this.audit(tx, actor, `changed ${h.noun} ${id}`, { action: 'update', entity: kind, id, fields: Object.keys(patch) });
      return entity as EntityByKind[K];
    });
  }

  async remove(kind: S.PlainKind, id: string, actor: Actor): Promise<void> {
    const h = HANDLERS[kind];
    await this.repo.transaction(async (tx) => {
      const existing = await h.store(tx).get(id);
      if (!existing) throw notFound(h.noun, id);
      await h.beforeDelete(existing, tx);
      await h.store(tx).delete(id);
      await this.audit(tx, actor, `deleted ${h.noun} ${id}`, { action: 'delete', entity: kind, id });
    });
  }

  // --- queries the wizard and the operators need -----------------------------------

  async members(collectionId: string): Promise<Device[]> {
    const c = await this.repo.collections.get(collectionId);
    if (!c) throw notFound('collection', collectionId);
    return collectionMembers(c, await this.repo.devices.list());
  }

  /** Rule 1: every invalid reference of a task sequence. */
  async checkTaskSequence(id: string): Promise<ReferenceProblem[]> {
    const ts = await this.repo.taskSequences.get(id);
    if (!ts) throw notFound('task sequence', id);
    return findInvalidReferences(ts, await this.lookups(this.repo));
  }

  private async lookups(tx: SiteRepository): Promise<{ packages: Map<string, Package>; bootImages: Map<string, BootImage> }> {
    return {
      packages: new Map((await tx.packages.list()).map((p) => [p.id, p])),
      bootImages: new Map((await tx.bootImages.list()).map((b) => [b.id, b])),
    };
  }

  // --- deployments (the deploy wizard) ---------------------------------------------

  listDeployments(): Promise<Deployment[]> {
    return this.repo.deployments.list();
  }

  async getDeployment(id: string): Promise<Deployment> {
    const d = await this.repo.deployments.get(id);
    if (!d) throw notFound('deployment', id);
    return d;
  }

  async createDeployment(body: unknown, actor: Actor): Promise<DeploymentOutcome> {
    const input = validateInput<WizardInput & { settings?: DeepPartial<DeploymentSettings> }>(S.deploymentCreate, body);
    return this.repo.transaction(async (tx) => {
      const taskSequence = await tx.taskSequences.get(input.taskSequenceId);
      const collection = await tx.collections.get(input.collectionId);
      const template = input.templateId ? await tx.templates.get(input.templateId) : undefined;
      if (input.templateId && !template) throw invalid('body.templateId', `deployment template "${input.templateId}" does not exist`);
      const members = collection ? collectionMembers(collection, await tx.devices.list()) : [];
      const outcome = runDeployWizard(
        { ...input, settings: input.settings ?? {} },
        { taskSequence, collection, members, siteSettings: await tx.getSettings(), ...(template ? { template } : {}), ...(await this.lookups(tx)) },
      );
      const now = this.now();
      const deployment: Deployment = {
        ...outcome.settings,
        id: await this.newId(tx, 'deployment'),
        taskSequenceId: input.taskSequenceId,
        collectionId: input.collectionId,
        comment: input.comment ?? '',
        templateId: input.templateId ?? null,
        highRisk: outcome.highRisk,
        createdBy: actor.name,
        createdAt: now,
        modifiedAt: now,
      };
      await tx.deployments.insert(deployment);
      // "Automatically distribute content for dependencies" (rule 3; src/content/distribution.ts).
      await distributeForDeployment(tx, deployment, actor, now);
      await this.audit(tx, actor, `deployed task sequence ${deployment.taskSequenceId} to collection ${deployment.collectionId} as ${deployment.id}`,
        { action: 'create', entity: 'deployments', id: deployment.id }, { deploymentId: deployment.id });
      if (outcome.highRisk.accepted && outcome.highRisk.warnings.length > 0) {
        // Rule 135/137: accepting a high-risk warning generates an audit status message.
        await this.audit(tx, actor, `accepted high-risk deployment ${deployment.id}: ${outcome.highRisk.warnings.join('; ')}`,
          { action: 'high-risk-accepted', entity: 'deployments', id: deployment.id, warnings: outcome.highRisk.warnings },
          { severity: 'warning', deploymentId: deployment.id });
        publish('deploy.highrisk', { deploymentId: deployment.id, warnings: outcome.highRisk.warnings, actor: actor.name });
      }
      return { deployment, warnings: outcome.warnings };
    });
  }

  async updateDeployment(id: string, body: unknown, actor: Actor): Promise<DeploymentOutcome> {
    const input = validateInput<{ comment?: string; settings?: DeepPartial<DeploymentSettings>; acceptHighRisk?: boolean; showCollectionsOverDefaultSize?: boolean }>(S.deploymentUpdate, body);
    return this.repo.transaction(async (tx) => {
      const existing = await tx.deployments.get(id);
      if (!existing) throw notFound('deployment', id);
      const taskSequence = await tx.taskSequences.get(existing.taskSequenceId);
      const collection = await tx.collections.get(existing.collectionId);
      const members = collection ? collectionMembers(collection, await tx.devices.list()) : [];
      const current: DeepPartial<DeploymentSettings> = {
        general: existing.general, deploymentSettings: existing.deploymentSettings, scheduling: existing.scheduling,
        userExperience: existing.userExperience, alerts: existing.alerts, distributionPoints: existing.distributionPoints,
      };
      const outcome = runDeployWizard(
        {
          taskSequenceId: existing.taskSequenceId, collectionId: existing.collectionId,
          settings: mergeSettings(mergeSettings(defaultDeploymentSettings(), current), input.settings ?? {}),
          ...(input.acceptHighRisk !== undefined ? { acceptHighRisk: input.acceptHighRisk } : {}),
          ...(input.showCollectionsOverDefaultSize !== undefined ? { showCollectionsOverDefaultSize: input.showCollectionsOverDefaultSize } : {}),
        },
        { taskSequence, collection, members, siteSettings: await tx.getSettings(), existing, ...(await this.lookups(tx)) },
      );
      const deployment: Deployment = {
        ...existing,
        ...outcome.settings,
        comment: input.comment ?? existing.comment,
        highRisk: outcome.highRisk,
        modifiedAt: this.now(),
      };
      await tx.deployments.update(deployment);
      await this.audit(tx, actor, `changed deployment ${id}`, { action: 'update', entity: 'deployments', id }, { deploymentId: id });
      return { deployment, warnings: outcome.warnings };
    });
  }

  async removeDeployment(id: string, actor: Actor): Promise<void> {
    await this.repo.transaction(async (tx) => {
      if (!(await tx.deployments.delete(id))) throw notFound('deployment', id);
      await this.audit(tx, actor, `deleted deployment ${id}`, { action: 'delete', entity: 'deployments', id }, { deploymentId: id });
    });
  }

  // --- templates (rule 4) ------------------------------------------------------------

  listTemplates(): Promise<DeploymentTemplate[]> {
    return this.repo.templates.list();
  }

  async getTemplate(idOrName: string): Promise<DeploymentTemplate> {
    const t = (await this.repo.templates.get(idOrName)) ?? (await this.repo.templates.list()).find((x) => x.name === idOrName);
    if (!t) throw notFound('template', idOrName);
    return t;
  }

  async saveTemplate(body: unknown, actor: Actor): Promise<DeploymentTemplate> {
    const input = validateInput<{ name: string; fromDeploymentId?: string; settings?: DeepPartial<DeploymentSettings> }>(S.templateCreate, body);
    if (!input.fromDeploymentId && !input.settings) throw invalid('body.settings', 'give the settings to save, or fromDeploymentId');
    return this.repo.transaction(async (tx) => {
      let settings: DeploymentSettings;
      if (input.fromDeploymentId) {
        const d = await tx.deployments.get(input.fromDeploymentId);
        if (!d) throw invalid('body.fromDeploymentId', `deployment "${input.fromDeploymentId}" does not exist`);
        settings = d;
      } else {
        settings = mergeSettings(defaultDeploymentSettings(), input.settings ?? {});
      }
      if ((await tx.templates.list()).some((t) => t.name === input.name)) {
        throw new PxeError('PXE_ERR_CONFLICT', `a deployment template named "${input.name}" exists already; pick another name or delete it`, 409, { field: 'body.name' });
      }
      const now = this.now();
      const template: DeploymentTemplate = { id: await this.newId(tx, 'template'), name: input.name, settings: templateSettingsFrom(settings), createdAt: now, modifiedAt: now };
      await tx.templates.insert(template);
      await this.audit(tx, actor, `saved deployment template ${template.id} ("${template.name}")`, { action: 'create', entity: 'templates', id: template.id });
      return template;
    });
  }

  async removeTemplate(id: string, actor: Actor): Promise<void> {
    await this.repo.transaction(async (tx) => {
      if (!(await tx.templates.delete(id))) throw notFound('template', id);
      await this.audit(tx, actor, `deleted deployment template ${id}`, { action: 'delete', entity: 'templates', id });
    });
  }

  /** The template's settings as wizard input (what `deploy --template` starts from). */
  async templateAsSettings(idOrName: string): Promise<DeepPartial<DeploymentSettings>> {
    return settingsFromTemplate((await this.getTemplate(idOrName)).settings);
  }

  // --- Clear Required PXE Deployments (rule 40) ---------------------------------------

  async clearPxe(body: unknown, actor: Actor): Promise<{ cleared: string[] }> {
    const input = validateInput<{ deviceId?: string; collectionId?: string }>(S.clearPxeBody, body);
    return this.repo.transaction(async (tx) => {
      let targets: Device[];
      if (input.deviceId !== undefined) {
        const d = await tx.devices.get(input.deviceId);
        if (!d) throw notFound('device', input.deviceId);
        targets = [d];
      } else {
        const c = await tx.collections.get(input.collectionId!);
        if (!c) throw notFound('collection', input.collectionId!);
        targets = collectionMembers(c, await tx.devices.list());
      }
      const cleared: string[] = [];
      for (const d of targets) {
        if (d.pxe.lastPxeDeploymentId === null && d.pxe.lastPxeDeploymentTime === null) continue;
        await tx.devices.update({ ...d, pxe: { lastPxeDeploymentId: null, lastPxeDeploymentTime: null }, modifiedAt: this.now() });
        cleared.push(d.id);
      }
      const scope = input.deviceId !== undefined ? `device ${input.deviceId}` : `collection ${input.collectionId}`;
      await this.audit(tx, actor, `cleared required PXE deployments on ${scope} (${cleared.length} device(s))`,
        { action: 'clear-pxe', ...input, cleared });
      return { cleared };
    });
  }

  // --- site settings --------------------------------------------------------------------

  getSettings(): Promise<SiteSettings> {
    return this.repo.getSettings();
  }

  async updateSettings(body: unknown, actor: Actor): Promise<SiteSettings> {
    const patch = validateInput<{ siteName?: string; deploymentVerification?: Partial<SiteSettings['deploymentVerification']> }>(S.siteSettingsUpdate, body);
    return this.repo.transaction(async (tx) => {
      const current = await tx.getSettings();
      const next: SiteSettings = {
        ...current,
        siteName: patch.siteName ?? current.siteName,
        deploymentVerification: { ...current.deploymentVerification, ...patch.deploymentVerification },
      };
      validateVerificationSettings(next.deploymentVerification);
      await tx.putSettings(next);
      await this.audit(tx, actor, 'changed site settings', { action: 'update', entity: 'settings', fields: Object.keys(patch) });
      return next;
    });
  }

  // --- status and audit messages ----------------------------------------------------------

  messages(query: StatusMessageQuery = {}): Promise<StatusMessage[]> {
    return this.repo.statusMessages.list(query);
  }

  // --- API tokens (stored hashed) ------------------------------------------------------------

  async createToken(body: unknown, actor: Actor): Promise<{ token: ApiToken; secret: string }> {
    const input = validateInput<{ name: string }>(S.tokenCreate, body);
    const secret = `pxp_${randomBytes(24).toString('base64url')}`;
    return this.repo.transaction(async (tx) => {
      const token: ApiToken = { id: await this.newId(tx, 'token'), name: input.name, hash: hashSecret(secret), createdAt: this.now(), lastUsedAt: null };
      await tx.tokens.insert(token);
      await this.audit(tx, actor, `created API token ${token.id} ("${token.name}")`, { action: 'create', entity: 'tokens', id: token.id });
      return { token, secret };
    });
  }

  listTokens(): Promise<ApiToken[]> {
    return this.repo.tokens.list();
  }

  async revokeToken(id: string, actor: Actor): Promise<void> {
    await this.repo.transaction(async (tx) => {
      if (!(await tx.tokens.delete(id))) throw notFound('token', id);
      await this.audit(tx, actor, `revoked API token ${id}`, { action: 'delete', entity: 'tokens', id });
    });
  }

  /** The token a bearer secret belongs to, or undefined. Records last use at most once a minute. */
  async authenticate(secret: string): Promise<ApiToken | undefined> {
    if (!secret.startsWith('pxp_') || secret.length > 200) return undefined;
    const token = await this.repo.tokens.findByHash(hashSecret(secret));
    if (!token) return undefined;
    const now = this.clock();
    if (!token.lastUsedAt || now.getTime() - Date.parse(token.lastUsedAt) > 60_000) {
      await this.repo.tokens.update({ ...token, lastUsedAt: now.toISOString() });
    }
    return token;
  }
}

