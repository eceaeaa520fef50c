//! Every human-readable text of the API, in English and Chinese, keyed by the stable machine code.
//! The code never changes with the language; only `title`, `detail` and field `message` do.

use actix_web::HttpRequest;
use actix_web::http::header::ACCEPT_LANGUAGE;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

/// The request's language, as an extractor.
impl actix_web::FromRequest for Lang {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Lang, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Ok(Lang::from_request(req)))
    }
}

impl Lang {
    /// Chinese when the most preferred language of `Accept-Language` is a `zh` tag, else English.
    pub fn from_request(req: &HttpRequest) -> Lang {
        let Some(header) = req
            .headers()
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
        else {
            return Lang::En;
        };
        Self::from_accept_language(header)
    }

    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, &str)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if !tag.is_empty() && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, tag));
            }
        }
        match best {
            Some((_, tag)) if tag.to_ascii_lowercase().starts_with("zh") => Lang::Zh,
            _ => Lang::En,
        }
    }

    pub fn pick<'a>(self, en: &'a str, zh: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }
}

/// Title of a problem, by its code.
pub fn problem_title(code: &str, lang: Lang) -> &'static str {
    let (en, zh) = match code {
        "validation_failed" => ("The request has invalid fields", "请求参数校验失败"),
        "malformed_json" => (
            "The request body is not valid JSON",
            "请求体不是合法的 JSON",
        ),
        "unsupported_media_type" => (
            "The request body must be application/json",
            "请求体必须是 application/json",
        ),
        "invalid_query" => ("Invalid query parameters", "查询参数无效"),
        "invalid_cursor" => ("Invalid pagination cursor", "分页游标无效"),
        "bad_request" => ("Bad request", "请求无效"),
        "unauthenticated" => ("Authentication required", "需要登录"),
        "invalid_token" => ("The access token is invalid", "访问令牌无效"),
        "token_expired" => ("The access token has expired", "访问令牌已过期"),
        "session_revoked" => ("This sign-in has ended", "登录会话已失效"),
        "invalid_credentials" => ("Wrong mobile number or password", "手机号或密码错误"),
        "invalid_refresh_token" => ("The refresh token is invalid", "刷新令牌无效"),
        "account_locked" => (
            "Too many failed sign-ins: the account is locked for a while",
            "登录失败次数过多，账号已被暂时锁定",
        ),
        "account_disabled" => ("This account is disabled", "账号已停用"),
        "forbidden" => ("Your role may not do this", "当前角色无权执行此操作"),
        "password_change_required" => (
            "Change your password first (POST /api/v1/me/password)",
            "请先修改密码（POST /api/v1/me/password）",
        ),
        "own_password_reset" => (
            "Change your own password with the current one (POST /api/v1/me/password)",
            "本人密码只能凭当前密码修改（POST /api/v1/me/password）",
        ),
        "rate_limited" => (
            "Too many requests from this address: try again later",
            "该地址请求过于频繁，请稍后再试",
        ),
        "request_timeout" => ("The request body did not arrive in time", "请求体接收超时"),
        "not_found" => ("Not found", "资源不存在"),
        "method_not_allowed" => ("Method not allowed", "不支持该请求方法"),
        "mobile_taken" => (
            "A user with this mobile number already exists",
            "该手机号已被注册",
        ),
        "cannot_modify_self" => (
            "You cannot change your own role or status",
            "不能修改自己的角色或状态",
        ),
        "region_exists" => ("This region already exists", "该行政区划已存在"),
        "uscc_taken" => (
            "An organization with this USCC already exists",
            "该统一社会信用代码已被登记",
        ),
        "village_taken" => (
            "This village already has a collective organization",
            "该村已有村集体经济组织",
        ),
        "bank_code_taken" => ("A bank with this code already exists", "该银行代码已存在"),
        "branch_name_taken" => (
            "This bank already has a branch with this name",
            "该银行已有同名支行",
        ),
        "not_acceptable" => (
            "This resource is available as application/json or text/csv",
            "该资源仅提供 application/json 或 text/csv 格式",
        ),
        "invalid_state" => (
            "This action is not allowed in the current state",
            "当前状态下不允许此操作",
        ),
        "asset_encumbered" => (
            "An asset is already pledged in another application",
            "有资产已在其他申请中抵押",
        ),
        "idempotency_key_reused" => (
            "This Idempotency-Key was used for a different request",
            "该幂等键已用于其他请求",
        ),
        "idempotency_key_in_flight" => (
            "The first request with this Idempotency-Key is still being processed",
            "使用该幂等键的首个请求仍在处理中",
        ),
        "four_eyes" => (
            "The approver may not be the officer who recommended this loan",
            "审批人不得为提出推荐意见的客户经理（双人复核）",
        ),
        "over_approval_limit" => (
            "The amount is above your approval limit",
            "金额超出您的审批权限",
        ),
        "not_assigned" => (
            "Only the officer this application is assigned to may do this",
            "仅受理该申请的客户经理可执行此操作",
        ),
        "overpayment" => (
            "The repayment is more than everything owed",
            "还款金额超过全部应还金额",
        ),
        "lien_registration_taken" => (
            "This bank already recorded this lien registration number",
            "该银行已登记过此抵押登记号",
        ),
        "shares_exceed_100" => (
            "The shareholdings would exceed 100 %",
            "持股比例合计将超过 100%",
        ),
        "shareholding_registered" => (
            "This shareholding is registered as an asset",
            "该股权已登记为资产",
        ),
        "asset_changed" => (
            "A collateral asset changed while the application was being submitted; try again",
            "提交过程中抵押资产发生了变化，请重试",
        ),
        "asset_in_application" => (
            "The asset is named in a loan application and cannot be removed",
            "该资产已用于贷款申请，不能删除",
        ),
        "product_retired" => ("A retired product cannot change", "已下架的产品不能修改"),
        "precondition_failed" => (
            "The object has changed since you read it",
            "对象已被修改，请刷新后重试",
        ),
        "payload_too_large" => ("The request body is too large", "请求体过大"),
        "service_unavailable" => ("The service is not ready", "服务暂不可用"),
        _ => ("Internal server error", "服务器内部错误"),
    };
    lang.pick(en, zh)
}

/// Message for one invalid field, by its code.
pub fn field_message(code: &str, lang: Lang) -> &'static str {
    let (en, zh) = match code {
        "required" => ("This field is required", "此项为必填项"),
        "above_requested" => (
            "Above the amount the village asked for",
            "超过村集体申请的金额",
        ),
        "above_recommended" => ("Above the recommended amount", "超过推荐金额"),
        "above_approved" => ("Above the approved amount", "超过审批金额"),
        "out_of_product_range" => (
            "Outside the range the loan product allows",
            "超出贷款产品允许的范围",
        ),
        "before_disbursement" => ("Before the loan was disbursed", "早于放款日期"),
        "before_previous_repayment" => ("Before the previous repayment", "早于上一笔还款日期"),
        "control_characters" => (
            "Control characters are not allowed here",
            "此处不允许包含控制字符",
        ),
        "unknown_value" => (
            "This value is not one of the allowed ones",
            "取值不在允许范围内",
        ),
        "limit_out_of_range" => (
            "limit must be between 1 and 100",
            "limit 须在 1 到 100 之间",
        ),
        "invalid_idempotency_key" => (
            "Idempotency-Key must be 1 to 128 visible characters",
            "Idempotency-Key 须为 1 到 128 个可见字符",
        ),
        "invalid_type" => ("This field has the wrong type", "字段类型错误"),
        "invalid_value" => ("This value is not allowed", "取值无效"),
        "blank" => ("This field must not be blank", "此项不能为空"),
        "too_long" => ("This value is too long", "内容过长"),
        "invalid_mobile" => (
            "Not a mainland China mobile number (11 digits starting with 1)",
            "不是有效的中国大陆手机号（以 1 开头的 11 位数字）",
        ),
        "weak_password" => (
            "The password needs 8 to 128 characters with at least one letter and one digit",
            "密码须为 8 到 128 位，且至少包含一个字母和一个数字",
        ),
        "incorrect" => ("This is not your current password", "当前密码不正确"),
        "same_as_current" => (
            "The new password must differ from the current one",
            "新密码不能与当前密码相同",
        ),
        "invalid_amount" => (
            "Not an amount: use a decimal string with at most two places",
            "金额格式无效：请使用最多两位小数的十进制字符串",
        ),
        "negative" => ("Must not be negative", "不能为负数"),
        "invalid_decimal" => (
            "Not a number: use a decimal string with at most two places",
            "数值格式无效：请使用最多两位小数的十进制字符串",
        ),
        "required_for_role" => ("Required for this role", "该角色必须填写此项"),
        "not_allowed_for_role" => ("Not allowed for this role", "该角色不能填写此项"),
        "out_of_range" => ("Out of the allowed range", "超出允许范围"),
        "invalid_region_code" => (
            "Not an administrative division code (12 digits)",
            "不是有效的行政区划代码（12 位数字）",
        ),
        "unknown_region" => ("No such region", "行政区划不存在"),
        "unknown_parent" => (
            "The parent region does not exist yet",
            "上级行政区划尚不存在",
        ),
        "wrong_region_level" => (
            "The region is not of the required level",
            "行政区划级别不符",
        ),
        "level_mismatch" => ("The level does not match the code", "级别与代码不一致"),
        "parent_mismatch" => ("The parent does not match the code", "上级代码与代码不一致"),
        "invalid_uscc" => (
            "Not a unified social credit code (18 characters)",
            "不是有效的统一社会信用代码（18 位）",
        ),
        "uscc_check_failed" => (
            "The check character of this unified social credit code is wrong",
            "统一社会信用代码校验位错误",
        ),
        "uscc_taken" => ("Already registered", "已被登记"),
        "village_taken" => (
            "This village already has a collective organization",
            "该村已有村集体经济组织",
        ),
        "invalid_bank_code" => (
            "2 to 32 letters, digits, - or _",
            "须为 2 到 32 位字母、数字、- 或 _",
        ),
        "unknown_organization" => ("No such organization", "组织不存在"),
        "unknown_bank" => ("No such bank", "银行不存在"),
        "unknown_branch" => ("No such branch of this bank", "该银行没有此支行"),
        "duplicate_in_file" => (
            "Appears on an earlier line of the file",
            "与文件中前面的行重复",
        ),
        "required_for_new_village" => (
            "Required because the village does not exist yet",
            "该村尚未登记，须填写村名",
        ),
        "unknown_column" => ("Not a column of the import format", "不是导入格式中的列"),
        "invalid_csv" => ("This line is not valid CSV", "该行不是有效的 CSV"),
        "not_utf8" => ("The file is not UTF-8 text", "文件不是 UTF-8 编码的文本"),
        "no_rows" => ("The file has no rows", "文件没有数据行"),
        "unit_not_allowed_for_kind" => (
            "Not a unit for this kind of asset",
            "该类资产不能使用此计量单位",
        ),
        "required_for_kind" => ("Required for this kind of asset", "该类资产必须填写此项"),
        "not_allowed_for_kind" => ("Not allowed for this kind of asset", "该类资产不能填写此项"),
        "not_after_start" => ("Must be after the start date", "必须晚于起始日期"),
        "in_future" => ("Must not be in the future", "不能晚于今天"),
        "not_after_appraisal_date" => ("Must be after the appraisal date", "必须晚于评估日期"),
        "unknown_shareholding" => (
            "No such shareholding of this organization",
            "该组织没有此股权",
        ),
        "not_a_collective_shareholding" => (
            "Only the collective's own shareholding can be pledged",
            "只能抵押村集体自身持有的股权",
        ),
        "unsupported_file_type" => (
            "Only JPEG, PNG or PDF files",
            "仅支持 JPEG、PNG 或 PDF 文件",
        ),
        "duplicate" => ("Appears twice", "重复"),
        "below_minimum" => ("Must not be below the minimum", "不能低于最小值"),
        "unknown_asset" => ("No such asset of this organization", "该组织没有此资产"),
        "unknown_product" => ("No such active product", "没有此在售产品"),
        "unknown_document" => (
            "No such assembly resolution document of this organization",
            "该组织没有此村民代表大会决议文件",
        ),
        "before_from" => ("Before the start of the period", "早于起始日期"),
        "resolution_too_old" => (
            "The assembly resolution must be dated within the last 12 months",
            "村民代表大会决议须在最近 12 个月内作出",
        ),
        "method_not_offered" => (
            "The product does not offer this repayment method",
            "该产品不提供此还款方式",
        ),
        "region_not_served" => (
            "The bank does not serve the organization's region",
            "该银行不服务本组织所在地区",
        ),
        "amount_out_of_range" => (
            "The amount is outside the product's range",
            "金额不在产品范围内",
        ),
        "term_out_of_range" => (
            "The term is outside the product's range",
            "期限不在产品范围内",
        ),
        "collateral_kind_not_accepted" => (
            "The product does not accept this kind of collateral",
            "该产品不接受此类抵押物",
        ),
        "asset_not_verified" => ("The asset is not verified yet", "该资产尚未核验"),
        "asset_encumbered" => ("The asset is already pledged", "该资产已被抵押"),
        "no_valid_valuation" => (
            "The asset has no valuation valid today",
            "该资产没有有效的评估价值",
        ),
        "term_exceeds_right" => (
            "The loan would end after the asset's right ends",
            "贷款到期日晚于该资产权利终止日",
        ),
        "purpose_not_accepted" => (
            "The product does not lend for this purpose",
            "该产品不支持此贷款用途",
        ),
        "insufficient_collateral" => (
            "The collateral's loanable value is below the amount",
            "抵押物可贷额度低于申请金额",
        ),
        "not_eligible" => (
            "The chosen product does not match this application",
            "所选产品与申请不匹配",
        ),
        _ => ("This value is invalid", "取值无效"),
    };
    lang.pick(en, zh)
}

/// A step of an application's timeline, by its audit action.
pub fn step_title(action: &str, lang: Lang) -> &'static str {
    let (en, zh) = match action {
        "application.create" => ("Application started", "创建申请"),
        "application.edit" => ("Draft edited", "修改草稿"),
        "application.submit" => ("Submitted to the bank", "提交银行"),
        "application.claim" => ("Taken up by a loan officer", "客户经理受理"),
        "application.release" => ("Handed back to the bank's queue", "退回待受理"),
        "application.request_info" => ("More information requested", "要求补充材料"),
        "application.resubmit" => ("Information supplied", "补充材料后重新提交"),
        "application.recommend" => ("Recommended for approval", "客户经理推荐"),
        "application.approve" => ("Approved", "审批通过"),
        "application.reject" => ("Rejected", "申请被拒绝"),
        "application.disburse" => ("Loan disbursed", "已放款"),
        "application.repayment" => ("Repayment received", "收到还款"),
        "application.settle" => ("Loan settled", "贷款结清"),
        "application.withdraw" => ("Withdrawn", "已撤回"),
        "application.shortfall_set" => ("Collateral below the loan", "抵押物价值不足以覆盖贷款"),
        "application.shortfall_cleared" => {
            ("Collateral covers the loan again", "抵押物价值恢复覆盖")
        }
        _ => ("Changed", "已变更"),
    };
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// A rejection reason as shown to people.
pub fn reject_reason(reason: entity::RejectReason, lang: Lang) -> &'static str {
    use entity::RejectReason as R;
    let (en, zh) = match reason {
        R::InsufficientCollateral => ("Insufficient collateral", "抵押物价值不足"),
        R::CollateralTitleDefect => ("Defect in the collateral's title", "抵押物权属存在瑕疵"),
        R::RepaymentCapacity => ("Insufficient repayment capacity", "还款能力不足"),
        R::IncompleteInformation => ("Incomplete information", "资料不完整"),
        R::Policy => ("Bank policy", "银行政策原因"),
        R::Other => ("Other", "其他"),
    };
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_most_preferred_language() {
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Lang::Zh
        );
        assert_eq!(Lang::from_accept_language("en-US,zh-CN;q=0.5"), Lang::En);
        assert_eq!(
            Lang::from_accept_language("en;q=0.4, zh-Hans;q=0.9"),
            Lang::Zh
        );
        assert_eq!(Lang::from_accept_language("fr"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
    }
}
