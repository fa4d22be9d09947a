//! Answers to the schema-template questions of the session API (`querySchemaTemplate`):
//! one place that turns the executor's result rows into a count, a flag or a name list,
//! shared by the Thrift server and the embedded client.

use crate::{Executor, Outcome, SessionContext};
use model::{Error, Result, Value};
use sql::ast::{Statement, TemplateInfoKind};

/// A template question, numbered as IoTDB's `TemplateQueryType` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateQuery {
    /// 0: number of measurements in the template.
    CountMeasurements,
    /// 1: whether a path inside the template is a measurement.
    IsMeasurement,
    /// 2: whether a path exists inside the template.
    PathExist,
    /// 3: measurement paths of the template (optionally under a prefix).
    ShowMeasurements,
    /// 4: names of all templates.
    ShowTemplates,
    /// 5: paths the template is set on.
    ShowSetTemplates,
    /// 6: paths the template is activated on.
    ShowUsingTemplates,
}

impl TemplateQuery {
    /// The question with wire number `code`.
    pub fn from_code(code: i32) -> Result<Self> {
        Ok(match code {
            0 => TemplateQuery::CountMeasurements,
            1 => TemplateQuery::IsMeasurement,
            2 => TemplateQuery::PathExist,
            3 => TemplateQuery::ShowMeasurements,
            4 => TemplateQuery::ShowTemplates,
            5 => TemplateQuery::ShowSetTemplates,
            6 => TemplateQuery::ShowUsingTemplates,
            other => {
                return Err(Error::IllegalParameter(format!(
                    "unknown template query type {other}"
                )))
            }
        })
    }

    /// The wire number.
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// The answer to a [`TemplateQuery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateAnswer {
    /// For [`TemplateQuery::CountMeasurements`].
    Count(i32),
    /// For [`TemplateQuery::IsMeasurement`] and [`TemplateQuery::PathExist`].
    Flag(bool),
    /// For the SHOW questions.
    Names(Vec<String>),
}

impl Executor {
    /// Answers a schema-template question about template `name` (`path` is the
    /// question's path argument; ignored where the question has none).
    pub fn template_query(
        &self,
        query: TemplateQuery,
        name: String,
        path: String,
        ctx: &SessionContext,
    ) -> Result<TemplateAnswer> {
        let kind = match query {
            TemplateQuery::CountMeasurements => TemplateInfoKind::CountMeasurements,
            TemplateQuery::IsMeasurement => TemplateInfoKind::IsMeasurement,
            TemplateQuery::PathExist => TemplateInfoKind::PathExist,
            TemplateQuery::ShowMeasurements => TemplateInfoKind::ShowMeasurements,
            TemplateQuery::ShowSetTemplates => TemplateInfoKind::ShowSetTemplates,
            TemplateQuery::ShowUsingTemplates => TemplateInfoKind::ShowUsingTemplates,
            TemplateQuery::ShowTemplates => {
                return answer(query, self.execute(Statement::ShowSchemaTemplates, ctx)?)
            }
        };
        let stmt = Statement::TemplateInfo { kind, name, path };
        answer(query, self.execute(stmt, ctx)?)
    }
}

fn answer(query: TemplateQuery, outcome: Outcome) -> Result<TemplateAnswer> {
    let rows = match outcome {
        Outcome::Rows(mut r) => r.collect_rows()?,
        Outcome::Done => model::RowBatch::default(),
    };
    let first = rows.columns.first();
    let cell = |i: usize| first.and_then(|c| c.value(i));
    Ok(match query {
        TemplateQuery::CountMeasurements => TemplateAnswer::Count(match cell(0) {
            Some(Value::Int32(v)) => v,
            Some(Value::Int64(v)) => i32::try_from(v).unwrap_or(i32::MAX),
            _ => 0,
        }),
        TemplateQuery::IsMeasurement | TemplateQuery::PathExist => {
            TemplateAnswer::Flag(matches!(cell(0), Some(Value::Boolean(true))))
        }
        _ => TemplateAnswer::Names(
            (0..rows.len())
                .filter_map(|i| cell(i).map(|v| v.to_iotdb_string()))
                .collect(),
        ),
    })
}
