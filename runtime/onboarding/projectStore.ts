import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { PROJECTS } from "../schema";

/** A user's project on a repository, as stored in the `projects` table. */
export interface Project {
  readonly id: string;
  /** `owner/name`, lowercased (the table's key). */
  readonly repository: string;
  readonly userId: string;
  /** The branch whose pushes deploy; absent means the repository's default branch (each push names it). */
  readonly branch?: string;
  readonly rootDirectory?: string;
  readonly autoDeploy: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The deployment the newest push created, so the next push can skip it if it has not started. */
  readonly lastPushDeploymentId?: string;
}

export interface ProjectStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly table: string;
}

export const projectKey = (repository: string, userId: string) => ({
  [PROJECTS.hashKey]: repository.toLowerCase(),
  [PROJECTS.rangeKey]: userId,
});

/** The `projects` table. */
export class ProjectStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: ProjectStoreOptions) {
    this.client = options.client;
    this.table = options.table;
  }

  async get(repository: string, userId: string): Promise<Project | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.table, Key: projectKey(repository, userId), ConsistentRead: true }),
    );
    return Item as Project | undefined;
  }

  async put(project: Project): Promise<Project> {
    await this.client.send(new PutCommand({ TableName: this.table, Item: project }));
    return project;
  }

  async delete(repository: string, userId: string): Promise<Project | undefined> {
    const { Attributes } = await this.client.send(
      new DeleteCommand({ TableName: this.table, Key: projectKey(repository, userId), ReturnValues: "ALL_OLD" }),
    );
    return Attributes as Project | undefined;
  }

  /** Every user's project on the repository (a push's fan-out). */
  async listForRepository(repository: string): Promise<Project[]> {
    return this.queryAll({
      KeyConditionExpression: "#r = :r",
      ExpressionAttributeNames: { "#r": PROJECTS.hashKey },
      ExpressionAttributeValues: { ":r": repository.toLowerCase() },
      ConsistentRead: true,
    });
  }

  /** The user's projects, by repository. */
  async listForUser(userId: string): Promise<Project[]> {
    return this.queryAll({
      IndexName: PROJECTS.byUserIndex.name,
      KeyConditionExpression: "#u = :u",
      ExpressionAttributeNames: { "#u": PROJECTS.byUserIndex.hashKey },
      ExpressionAttributeValues: { ":u": userId },
    });
  }

  /**
   * Records the newest push's deployment and returns the one it replaces. Conditional on the project still being the
   * same one (a project deleted and recreated meanwhile has another id).
   */
  async recordPush(project: Project, deploymentId: string): Promise<string | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: projectKey(project.repository, project.userId),
          UpdateExpression: "SET #last = :d",
          ConditionExpression: "#id = :id",
          ExpressionAttributeNames: { "#last": "lastPushDeploymentId", "#id": "id" },
          ExpressionAttributeValues: { ":d": deploymentId, ":id": project.id },
          ReturnValues: "UPDATED_OLD",
        }),
      );
      return (Attributes as { lastPushDeploymentId?: string } | undefined)?.lastPushDeploymentId;
    } catch (error) {
      if ((error as { name?: string }).name === "ConditionalCheckFailedException") return undefined;
      throw error;
    }
  }

  private async queryAll(input: Omit<ConstructorParameters<typeof QueryCommand>[0], "TableName">) {
    const items: Project[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({ ...input, TableName: this.table, ExclusiveStartKey: start }),
      );
      items.push(...((page.Items ?? []) as Project[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return items.sort((a, b) => a.repository.localeCompare(b.repository) || a.userId.localeCompare(b.userId));
  }
}
