// DynamoDB Local is shared by the tests and the local platform (`npm start`); tests start private in-memory ones.
export { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from "../../local/platform/dynamodbLocal";
