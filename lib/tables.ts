import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
  type Attribute,
  type ITable,
} from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { projectionOf, TABLES, type IndexProjection, type KeyAttribute, type TableDefinition } from '../functions/declarations/tables.ts';

/** A deployed table together with the declaration it was built from; the two never travel apart. */
export interface DeclaredTable {
  readonly definition: TableDefinition;
  readonly table: ITable;
}

export interface ForgeflowTablesProps {
  /** @default TABLES, every declared table */
  readonly definitions?: readonly TableDefinition[];
}

const attribute = (key: KeyAttribute): Attribute => ({
  name: key.name,
  type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER,
});

/**
 * The DynamoDB tables, built only from `functions/declarations/tables.ts`: keys, indexes, TTL and streams are read
 * from the declarations, never re-typed here.
 *
 * Encryption at rest uses the AWS managed key (`aws/dynamodb`) rather than a customer managed key:
 * - every read and write stays authorised by IAM alone: no key policy to keep in step with the roles of other
 *   stacks, and no cross-stack key-policy cycles when the stateless stack's roles need the key;
 * - the stream consumers (relay) need no kms:Decrypt grants;
 * - no monthly key charge; KMS rotates the key every year by itself;
 * - DynamoDB can switch a table between AWS managed and customer managed keys in place (an UpdateTable, no
 *   replacement), so a tenant or compliance requirement for a CMK (crypto-shredding, cross-account use,
 *   key-policy audit) can be met later without a data migration.
 */
export class ForgeflowTables extends Construct {
  private readonly byId = new Map<string, DeclaredTable>();

  constructor(scope: Construct, id: string, props: ForgeflowTablesProps = {}) {
    super(scope, id);
    for (const definition of props.definitions ?? TABLES) {
      const table = new Table(this, definition.id, {
        partitionKey: attribute(definition.partitionKey),
        sortKey: definition.sortKey ? attribute(definition.sortKey) : undefined,
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryption.AWS_MANAGED,
        timeToLiveAttribute: definition.ttlAttribute,
        stream: definition.stream ? StreamViewType[definition.stream] : undefined,
        // Jobs, events and counters are the system of record: a stack deletion or a replacement must never drop
        // them, and deletion protection also guards against a delete from the console or the CLI.
        removalPolicy: RemovalPolicy.RETAIN,
        deletionProtection: true,
      });
      for (const index of definition.indexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.indexName,
          partitionKey: attribute(index.partitionKey),
          sortKey: index.sortKey ? attribute(index.sortKey) : undefined,
          ...cdkProjection(projectionOf(index)),
        });
      }
      this.byId.set(definition.id, { definition, table });
    }
  }

  /** The deployed table for a declaration; throws if the declaration was not built here. */
  get(definition: TableDefinition): DeclaredTable {
    const declared = this.byId.get(definition.id);
    if (!declared) throw new Error(`Table ${definition.id} is not part of this stack`);
    return declared;
  }

  get all(): DeclaredTable[] {
    return [...this.byId.values()];
  }
}

function cdkProjection(projection: IndexProjection): { projectionType: ProjectionType; nonKeyAttributes?: string[] } {
  if (projection.type === 'INCLUDE') return { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...projection.attributes] };
  return { projectionType: ProjectionType[projection.type] };
}
