import { openDatabase } from '../../../local/adapters/sqlite-database.js';
import { SqliteDeploymentStore } from '../../../local/adapters/sqlite-deployment-store.js';
import { MemoryDeploymentStore } from '../../fixtures/fakes.js';
import { describeStoreContract } from '../../fixtures/store-contract.js';

// The test double and the local adapter must keep the same promises as the DynamoDB one.
describeStoreContract('MemoryDeploymentStore', async (clock) => new MemoryDeploymentStore(clock));
describeStoreContract(
  'SqliteDeploymentStore',
  async (clock) => new SqliteDeploymentStore(openDatabase(':memory:'), clock),
);
