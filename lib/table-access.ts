import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { DeclaredTable } from './tables.ts';

/**
 * What a function may do with a table.
 * - `read`: GetItem, BatchGetItem and Query on the table and on each declared index. No Scan: nothing in Forgeflow
 *   scans (stats are O(1) counters), so a Scan is a bug we want AccessDenied for.
 * - `append`: PutItem only. For append-only tables such as the outbox and the histories, and for conditional
 *   puts inside a transaction (an inbox claim): the writer can add items, never change or delete one.
 * - `write`: the per-item actions of TransactWriteItems (Put, Update, ConditionCheck). There is no IAM action
 *   for TransactWriteItems itself; DynamoDB authorises each item of the transaction.
 * - `claim`: PutItem, UpdateItem and DeleteItem, for inbox claims that guard an external effect: claim with a
 *   lease (conditional put), complete (update), release after a failed effect (conditional delete). The only
 *   level with DeleteItem.
 * - `batchAppend`: BatchWriteItem, for the relay's appends to the outbox, 25 rows a call (IAM has no put-only form
 *   of it: it also allows deletes, so it is granted on that one table to that one function).
 * - `readWrite`: `read` and `write`.
 * Levels combine: `['read', 'append']` reads and creates items but never updates one.
 */
export type TableAccess = 'read' | 'append' | 'batchAppend' | 'write' | 'claim' | 'readWrite' | 'check' | 'delete' | 'update' | 'scan';

const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
const INDEX_READ_ACTIONS = ['dynamodb:Query'];
const APPEND_ACTIONS = ['dynamodb:PutItem'];
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'];
const CLAIM_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

export function itemActions(access: TableAccess): string[] {
  switch (access) {
    case 'read':
      return READ_ACTIONS;
    case 'append':
      return APPEND_ACTIONS;
    case 'batchAppend':
      return ['dynamodb:BatchWriteItem'];
    case 'write':
      return WRITE_ACTIONS;
    case 'claim':
      return CLAIM_ACTIONS;
    case 'readWrite':
      return [...READ_ACTIONS, ...WRITE_ACTIONS];
    // A condition on an item inside a transaction (ParkJob checks that the tenant's slots are full).
    case 'check':
      return ['dynamodb:ConditionCheckItem'];
    case 'delete':
      return ['dynamodb:DeleteItem'];
    // Attributes of existing items only (the metrics collector's blocks): no item can be created or replaced.
    case 'update':
      return ['dynamodb:UpdateItem'];
    // The whole table (the platform's stats, summed from every tenant's counters).
    case 'scan':
      return ['dynamodb:Scan'];
  }
}

const capitalized = (word: string) => `${word[0]!.toUpperCase()}${word.slice(1)}`;

/**
 * Gives a function a table: sets the environment variable the declaration names to the table's physical name
 * and grants exactly `access` on it. One call does both, so a function can never know a table it may not use,
 * nor hold a grant on a table whose name it was never told.
 *
 * Statements are scoped to the table's ARN and to the ARN of each declared index (never `index/*`), and the
 * tables use the AWS managed key, so no KMS statement is needed (see ForgeflowTables).
 */
export function bindTable(fn: LambdaFunction, declared: DeclaredTable, access: TableAccess | readonly TableAccess[]): void {
  const { definition, table } = declared;
  const levels: readonly TableAccess[] = typeof access === 'string' ? [access] : access;
  if (levels.length === 0) throw new Error(`bindTable(${definition.id}): no access level given`);
  fn.addEnvironment(definition.envVar, table.tableName);
  fn.addToRolePolicy(
    new PolicyStatement({
      sid: `${definition.id}${levels.map(capitalized).join('')}`,
      actions: [...new Set(levels.flatMap(itemActions))],
      resources: [table.tableArn],
    }),
  );
  const reads = levels.includes('read') || levels.includes('readWrite');
  if (reads && definition.indexes.length > 0) {
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: `${definition.id}IndexQuery`,
        actions: INDEX_READ_ACTIONS,
        resources: definition.indexes.map((index) => `${table.tableArn}/index/${index.indexName}`),
      }),
    );
  }
}
