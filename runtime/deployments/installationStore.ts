import { DeleteCommand, GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Installation } from "../deployment";
import { INSTALLATIONS } from "../schema";

export interface InstallationStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly table: string;
}

/** The `installations` table: which GitHub App installation acts for each Slipway user. Written by operators. */
export class InstallationStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: InstallationStoreOptions) {
    this.client = options.client;
    this.table = options.table;
  }

  async get(userId: string): Promise<Installation | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { [INSTALLATIONS.hashKey]: userId }, ConsistentRead: true }),
    );
    return Item as Installation | undefined;
  }

  /** Creates or replaces the user's installation (a user reinstalling the App gets a new installation id). */
  async put(installation: Installation): Promise<Installation> {
    await this.client.send(new PutCommand({ TableName: this.table, Item: installation }));
    return installation;
  }

  /** Removes the user's installation; returns what was there, if anything. */
  async delete(userId: string): Promise<Installation | undefined> {
    const { Attributes } = await this.client.send(
      new DeleteCommand({ TableName: this.table, Key: { [INSTALLATIONS.hashKey]: userId }, ReturnValues: "ALL_OLD" }),
    );
    return Attributes as Installation | undefined;
  }

  /** Every installation, for operators; the table holds one small item per user, so a scan is fine here. */
  async list(): Promise<Installation[]> {
    const items: Installation[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ TableName: this.table, ExclusiveStartKey: start }));
      items.push(...((page.Items ?? []) as Installation[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return items.sort((a, b) => a.userId.localeCompare(b.userId));
  }
}
