import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { DeclaredTable } from './tables.ts';

/**
 * What a function may do with a table.
 * - `read`: GetItem, BatchGetItem and Query on the table and on each declared index. No Scan: nothing in Forgeflow
 *   scans (stats are O(1) counters), so a Scan is a bug we want AccessDenied for.
 * - `append`: PutItem only. For append-only tables such as the outbox: the writer can add events, never rewrite
 *   or delete one.
 * - `write`: the per-item actions of TransactWriteItems (Put, Update, ConditionCheck). There is no IAM action
 *   for TransactWriteItems itself; DynamoDB authorises each item of the transaction. No DeleteItem: nothing
 *   deletes yet.
 * - `readWrite`: both.
 */
export type TableAccess = 'read' | 'append' | 'write' | 'readWrite';

const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
const INDEX_READ_ACTIONS = ['dynamodb:Query'];
const APPEND_ACTIONS = ['dynamodb:PutItem'];
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'];

function itemActions(access: TableAccess): string[] {
  switch (access) {
    case 'read':
      return READ_ACTIONS;
    case 'append':
      return APPEND_ACTIONS;
    case 'write':
      return WRITE_ACTIONS;
    case 'readWrite':
      return [...READ_ACTIONS, ...WRITE_ACTIONS];
  }
}

/**
 * Gives a function a table: sets the environment variable the declaration names to the table's physical name
 * and grants exactly `access` on it. One call does both, so a function can never know a table it may not use,
 * nor hold a grant on a table whose name it was never told.
 *
 * Statements are scoped to the table's ARN and to the ARN of each declared index (never `index/*`), and the
 * tables use the AWS managed key, so no KMS statement is needed (see ForgeflowTables).
 */
export function bindTable(fn: LambdaFunction, declared: DeclaredTable, access: TableAccess): void {
  const { definition, table } = declared;
  fn.addEnvironment(definition.envVar, table.tableName);
  fn.addToRolePolicy(
    new PolicyStatement({
      sid: `${definition.id}${access[0]!.toUpperCase()}${access.slice(1)}`,
      actions: itemActions(access),
      resources: [table.tableArn],
    }),
  );
  if ((access === 'read' || access === 'readWrite') && definition.indexes.length > 0) {
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: `${definition.id}IndexQuery`,
        actions: INDEX_READ_ACTIONS,
        resources: definition.indexes.map((index) => `${table.tableArn}/index/${index.indexName}`),
      }),
    );
  }
}
