import {
  BatchWriteCommand,
  QueryCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import type { Installation } from "../deployment";
import { INSTALLATIONS } from "../schema";

export interface InstallationStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly table: string;
}

/** What GitHub last said about an installation (webhooks and `GET /user/installations`). */
export interface InstallationFacts {
  readonly accountLogin?: string;
  readonly repositorySelection?: "all" | "selected";
  /** GitHub's `installation.updated_at`: facts older than the stored ones are ignored (webhooks arrive out of order). */
  readonly githubUpdatedAt?: string;
  /** Set while GitHub reports the installation suspended; `null` clears it. */
  readonly suspendedAt?: string | null;
}

/**
 * The `installations` table: which GitHub App installations each Slipway user has linked, one item per (user,
 * installation). Written by `POST /github/installations`, the webhooks, and operators (`npm run installations`).
 */
export class InstallationStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: InstallationStoreOptions) {
    this.client = options.client;
    this.table = options.table;
  }

  /** The user's most recently linked installation (operators' `get`); `listForUser` for all of them. */
  async get(userId: string): Promise<Installation | undefined> {
    const links = await this.listForUser(userId);
    return links.sort((a, b) => (b.createdAt ?? "").localeCompare(a.createdAt ?? ""))[0];
  }

  /** Every installation the user has linked, by installation id. */
  async listForUser(userId: string): Promise<Installation[]> {
    return this.queryAll({
      KeyConditionExpression: "#u = :u",
      ExpressionAttributeNames: { "#u": INSTALLATIONS.hashKey },
      ExpressionAttributeValues: { ":u": userId },
      ConsistentRead: true,
    });
  }

  /** Every user's link to one installation (the `byInstallation` index, eventually consistent). */
  async listForInstallation(installationId: number): Promise<Installation[]> {
    return this.queryAll({
      IndexName: INSTALLATIONS.byInstallationIndex.name,
      KeyConditionExpression: "#i = :i",
      ExpressionAttributeNames: { "#i": INSTALLATIONS.byInstallationIndex.hashKey },
      ExpressionAttributeValues: { ":i": installationId },
    });
  }

  /** Links the user to the installation, or refreshes the link (relinking clears a previous `deletedAt`). */
  async put(installation: Installation): Promise<Installation> {
    await this.client.send(new PutCommand({ TableName: this.table, Item: installation }));
    return installation;
  }

  /**
   * Records what GitHub says about an installation on one user's link, unless the link is gone, the installation was
   * deleted (GitHub never reuses an installation id), or the stored facts are newer.
   */
  async applyFacts(userId: string, installationId: number, facts: InstallationFacts): Promise<boolean> {
    const names: Record<string, string> = { "#u": INSTALLATIONS.hashKey, "#d": "deletedAt" };
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    const removes: string[] = [];
    for (const [field, value] of Object.entries(facts)) {
      names[`#${field}`] = field;
      if (value === null) removes.push(`#${field}`);
      else if (value !== undefined) {
        values[`:${field}`] = value;
        sets.push(`#${field} = :${field}`);
      }
    }
    if (sets.length === 0 && removes.length === 0) return false;
    // DynamoDB refuses an expression attribute name the expressions do not use: `#githubUpdatedAt` is named by the
    // loop above exactly when the facts carry it.
    const newer = facts.githubUpdatedAt
      ? " AND (attribute_not_exists(#githubUpdatedAt) OR #githubUpdatedAt <= :githubUpdatedAt)"
      : "";
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [INSTALLATIONS.hashKey]: userId, [INSTALLATIONS.rangeKey]: installationId },
          UpdateExpression: [
            sets.length ? `SET ${sets.join(", ")}` : "",
            removes.length ? `REMOVE ${removes.join(", ")}` : "",
          ]
            .join(" ")
            .trim(),
          ConditionExpression: `attribute_exists(#u) AND attribute_not_exists(#d)${newer}`,
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === "ConditionalCheckFailedException") return false;
      throw error;
    }
  }

  /** Marks the link deleted (GitHub uninstalled the App); kept so the inspector can say so instead of "not linked". */
  async markDeleted(userId: string, installationId: number, deletedAt: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [INSTALLATIONS.hashKey]: userId, [INSTALLATIONS.rangeKey]: installationId },
          UpdateExpression: "SET #d = :d",
          ConditionExpression: "attribute_exists(#u) AND attribute_not_exists(#d)",
          ExpressionAttributeNames: { "#u": INSTALLATIONS.hashKey, "#d": "deletedAt" },
          ExpressionAttributeValues: { ":d": deletedAt },
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === "ConditionalCheckFailedException") return false;
      throw error;
    }
  }

  /** Unlinks one installation, or all of the user's when `installationId` is omitted; returns what was removed. */
  async delete(userId: string, installationId?: number): Promise<Installation[]> {
    const links = (await this.listForUser(userId)).filter(
      (link) => installationId === undefined || link.installationId === installationId,
    );
    // BatchWrite takes at most 25 requests; a user links a handful of installations.
    for (let i = 0; i < links.length; i += 25) {
      await this.client.send(
        new BatchWriteCommand({
          RequestItems: {
            [this.table]: links.slice(i, i + 25).map((link) => ({
              DeleteRequest: {
                Key: { [INSTALLATIONS.hashKey]: link.userId, [INSTALLATIONS.rangeKey]: link.installationId },
              },
            })),
          },
        }),
      );
    }
    return links;
  }

  /** Every link, for operators; one small item per (user, installation), so a scan is fine here. */
  async list(): Promise<Installation[]> {
    const items: Installation[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ TableName: this.table, ExclusiveStartKey: start }));
      items.push(...((page.Items ?? []) as Installation[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return items.sort((a, b) => a.userId.localeCompare(b.userId) || a.installationId - b.installationId);
  }

  private async queryAll(input: Omit<ConstructorParameters<typeof QueryCommand>[0], "TableName">) {
    const items: Installation[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({ ...input, TableName: this.table, ExclusiveStartKey: start }),
      );
      items.push(...((page.Items ?? []) as Installation[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return items.sort((a, b) => a.installationId - b.installationId);
  }
}
